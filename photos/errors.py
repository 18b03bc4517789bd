"""Errors that callers of the photo code must tell apart: each knows its HTTP status."""


class PhotoError(Exception):
    """A photo the pipeline refuses; `status` and `code` shape the JSON answer."""

    status = 400
    code = "bad_photo"

    def __init__(self, detail: str, *, code: str | None = None, **extra: object):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.extra = extra

    def as_dict(self) -> dict:
        """The JSON body an API answers with."""
        return {"error": self.code, "detail": self.detail, **self.extra}


class MalformedPhoto(PhotoError):
    status = 400
    code = "malformed_photo"


class PhotoTooLarge(PhotoError):
    status = 413
    code = "too_many_pixels"


class UnsupportedPhotoFormat(PhotoError):
    status = 415
    code = "unsupported_media_type"


class InvalidSettings(PhotoError):
    """Preset adjustments, selection rules or export options out of their ranges."""

    status = 400
    code = "invalid_settings"
