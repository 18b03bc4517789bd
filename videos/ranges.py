"""Stored media as HTTP answers with byte ranges (RFC 9110): what HTML5 players need to seek.

A player asks for `Range: bytes=start-end` and expects 206 with
Content-Range; seeking in a video it cannot range over means downloading it
all first. One range per request is served; a request for several gets the
whole file (allowed: a server may ignore Range), a range past the end 416.
The bytes stream from storage (`storage_io.iter_range`), never whole in memory.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.core.files.storage import default_storage
from django.http import Http404
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

from videos.storage_io import iter_range

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(Exception):
    """The range starts past the end of the file."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single satisfiable range; None to send the whole file."""
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None  # several ranges, or not bytes: the whole file
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            raise Unsatisfiable()
        return max(0, size - length), size - 1
    start = int(first)
    if start >= size:
        raise Unsatisfiable()
    end = int(last) if last else size - 1
    if end < start:
        return None
    return start, min(end, size - 1)


def stored_file_response(
    request: HttpRequest,
    name: str,
    *,
    content_type: str,
    filename: str | None = None,
    storage=None,
    cache_s: int = 3600,
) -> HttpResponse:
    """The stored file `name` as 200, or 206 for one byte range; 404 if missing, 416 past the end."""
    storage = storage or default_storage
    if not name:
        raise Http404("the file does not exist (yet)")
    try:
        size = storage.size(name)
    except (FileNotFoundError, OSError):
        raise Http404("the stored file is missing") from None
    try:
        byte_range = parse_range(request.headers.get("Range"), size)
    except Unsatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
    start, end = byte_range if byte_range else (0, size - 1)
    length = end - start + 1 if size else 0
    if request.method == "HEAD" or not size:
        body = iter(())
    else:
        body = iter_range(name, start, end, storage=storage)
    response = StreamingHttpResponse(
        body, status=206 if byte_range else 200, content_type=content_type
    )
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if byte_range:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Cache-Control"] = f"private, max-age={cache_s}"
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=False, filename=filename or Path(name).name
    )
    return response
