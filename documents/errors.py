"""Refusals of the documents services that callers tell apart (HTTP status and code).

Extraction refusals (documents.extraction.ExtractionError) carry the same
two attributes; the API answers both the same way.
"""


class DocumentsError(Exception):
    """A request the documents app refuses; `extra` goes into the error answer."""

    code = "invalid"
    http_status = 400

    def __init__(self, message: str, **extra: object) -> None:
        super().__init__(message)
        self.extra = extra


class DuplicateDocument(DocumentsError):
    """The same bytes are already a document of the collection."""

    code = "duplicate_document"
    http_status = 409


class ForbiddenSourceUrl(DocumentsError):
    """A URL the service will not fetch (scheme, credentials, internal address)."""

    code = "forbidden_url"


class InvalidReceiptImage(DocumentsError):
    code = "invalid_image"


class AlreadyProcessing(DocumentsError):
    """A job for the object is still queued or running."""

    code = "conflict"
    http_status = 409


class WebhookUnavailable(Exception):
    """A delivery failed in a way a later attempt may fix (network, 5xx, 429)."""


class PageUnavailable(Exception):
    """A web page could not be fetched now (network, 5xx, 429); a retry may help."""
