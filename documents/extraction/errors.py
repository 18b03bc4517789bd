"""Typed refusals of a document, each with the HTTP status an API answers it with."""


class ExtractionError(Exception):
    """A document that cannot be turned into text; `str(error)` says why, for users."""

    code = "invalid_document"
    http_status = 400


class EmptyDocument(ExtractionError):
    code = "empty"


class UnsupportedType(ExtractionError):
    code = "unsupported_type"
    http_status = 415


class CorruptDocument(ExtractionError):
    code = "corrupt"


class EncryptedDocument(ExtractionError):
    code = "encrypted"


class NoTextFound(ExtractionError):
    code = "no_text"
    http_status = 422


class LimitExceeded(ExtractionError):
    """The document is larger or costlier than the configured Limits allow."""

    code = "limit_exceeded"
    http_status = 413


class TooLarge(LimitExceeded):
    code = "too_large"


class TooManyPages(LimitExceeded):
    code = "too_many_pages"


class ArchiveBomb(LimitExceeded):
    code = "archive_bomb"


class ResourceLimitExceeded(LimitExceeded):
    """The parser ran out of its memory allowance (or crashed) in its sandbox."""

    code = "resource_limit"


class ExtractionTimeout(LimitExceeded):
    code = "timeout"


ERRORS_BY_NAME = {
    error.__name__: error
    for error in (
        ExtractionError,
        EmptyDocument,
        UnsupportedType,
        CorruptDocument,
        EncryptedDocument,
        NoTextFound,
        LimitExceeded,
        TooLarge,
        TooManyPages,
        ArchiveBomb,
        ResourceLimitExceeded,
        ExtractionTimeout,
    )
}
