"""The documents app's refusals as API answers: their own status and error code."""

from rest_framework import exceptions

from documents.errors import DocumentsError
from documents.extraction import ExtractionError


class Refused(exceptions.APIException):
    """A DocumentsError or ExtractionError, answered `{"error": code, "detail": ...}`."""

    def __init__(self, error: DocumentsError | ExtractionError):
        self.status_code = error.http_status
        self.detail = {
            "error": error.code,
            "detail": str(error),
            **getattr(error, "extra", {}),
        }


class RefusalsMixin:
    """Turns the app's own refusals into answers; everything else as DRF does."""

    def handle_exception(self, exc):
        if isinstance(exc, DocumentsError | ExtractionError):
            exc = Refused(exc)
        return super().handle_exception(exc)
