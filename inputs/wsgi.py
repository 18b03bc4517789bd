"""A WSGI wrapper that reads chunked request bodies, which Django would read as empty.

Microcontroller HTTP clients often send `Transfer-Encoding: chunked` without a
Content-Length. The server (gunicorn) decodes the chunks; Django reads only
Content-Length bytes, so the body arrives empty. This wrapper reads such a
body to its end, under the same size limit, spooling large ones to disk, and
gives Django its length.
"""

import json
import tempfile

SPOOL_IN_MEMORY_BYTES = 1024 * 1024
READ_BYTES = 64 * 1024


class ChunkedBodyMiddleware:
    def __init__(self, application, *, max_bytes: int):
        self.application = application
        self.max_bytes = max_bytes

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            # Django reads it after this call returns; closed when collected.
            body = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115
            size = 0
            stream = environ["wsgi.input"]
            while chunk := stream.read(READ_BYTES):
                size += len(chunk)
                if size > self.max_bytes:
                    body.close()
                    return self._too_large(start_response)
                body.write(chunk)
            body.seek(0)
            environ["wsgi.input"] = body
            environ["CONTENT_LENGTH"] = str(size)
        return self.application(environ, start_response)

    def _too_large(self, start_response):
        payload = json.dumps(
            {
                "error": "request_too_large",
                "detail": f"the chunked request body exceeds {self.max_bytes} bytes",
            }
        ).encode()
        start_response(
            "413 Payload Too Large",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(payload))),
            ],
        )
        return [payload]
