"""What every request's input must satisfy before any app sees it.

The guard middleware refuses, before authentication, bodies and query strings
that would crash a parser or poison the database (deeply nested JSON, NUL
characters), and reads chunked bodies; the DRF parsers and fields here hold
the same rules for form fields, files and dates. Apps import these fields
and parsers; nothing here imports an app.
"""
