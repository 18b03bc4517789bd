"""Errors that callers of the capture services must tell apart: each knows its HTTP status."""


class CaptureError(Exception):
    """A request the capture services refuse; `status` and `code` shape the JSON answer."""

    status = 400
    code = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None, **extra: object):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.extra = extra

    def as_dict(self) -> dict:
        return {"error": self.code, "detail": self.detail, **self.extra}


class BadRequest(CaptureError):
    status = 400
    code = "bad_request"


class MalformedImage(CaptureError):
    status = 400
    code = "malformed_image"


class DeviceAuthenticationFailed(CaptureError):
    status = 401
    code = "authentication_failed"


class DeviceInactive(CaptureError):
    status = 403
    code = "device_inactive"


class PayloadTooLarge(CaptureError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(CaptureError):
    status = 415
    code = "unsupported_media_type"
