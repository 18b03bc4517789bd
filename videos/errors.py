"""Errors the video services must tell apart: each knows its HTTP status."""


class VideoError(Exception):
    """A video that cannot be read or processed; `status` and `code` shape the answer."""

    status = 422
    code = "video_error"

    def __init__(self, detail: str, **extra: object):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def as_dict(self) -> dict:
        """The JSON body of an error answer."""
        return {"error": self.code, "detail": self.detail, **self.extra}


class UnsupportedVideo(VideoError):
    """Not one of the accepted containers, or no decodable video stream in it."""

    status = 415
    code = "unsupported_media_type"


class CorruptVideo(VideoError):
    """A known container that is truncated or damaged."""

    status = 422
    code = "corrupt_video"


class VideoLimitExceeded(VideoError):
    """Size, duration, dimensions or frame rate over the configured limits."""

    status = 413
    code = "video_limit_exceeded"


class TranscodeFailed(VideoError):
    """The encoder stopped with an error; `detail` carries the end of its log."""

    status = 500
    code = "transcode_failed"


class Cancelled(VideoError):
    """The caller's cancellation check said stop; the work stopped there."""

    status = 409
    code = "cancelled"


class TranscodeCancelled(Cancelled):
    """The caller asked to stop a transcode; the partial output is already removed."""

    code = "transcode_cancelled"


class DecoderTimeout(VideoError):
    """Reading the video took longer than the decoder's time limit."""

    status = 422
    code = "decoder_timeout"


class UploadError(VideoError):
    """An upload request the services refuse."""

    status = 400
    code = "invalid_upload"


class UploadConflict(UploadError):
    """The upload's state or offset does not allow this request (409)."""

    status = 409
    code = "upload_conflict"


class UploadGone(UploadError):
    """The upload expired, was aborted, or failed: start a new one (410)."""

    status = 410
    code = "upload_gone"


class ChecksumMismatch(UploadError):
    """The bytes received do not match the checksum the client sent with them."""

    status = 422
    code = "checksum_mismatch"


class UploadVerificationFailed(UploadError):
    """The assembled upload is not the file announced: size or SHA-256 differ."""

    status = 422
    code = "upload_verification_failed"


class UploadTooLong(UploadError):
    """More bytes than the upload announced (413)."""

    status = 413
    code = "upload_too_long"
