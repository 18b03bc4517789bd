"""What the videos ViewSets share: VideoErrors as JSON answers, rate-limit scopes."""

from django.conf import settings
from rest_framework import exceptions

from videos.errors import VideoError

UUID_PATTERN = (
    "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)


class VideoAPIError(exceptions.APIException):
    """A VideoError as DRF answers it: its status, `{"error", "detail", ...}`."""

    def __init__(self, error: VideoError):
        self.status_code = error.status
        self.detail = error.as_dict()
        self.default_code = error.code


class VideoErrorsMixin:
    """Turns VideoErrors raised by services into their JSON answers; per-view rate scopes."""

    # A view sets this to a key of VIDEOS_RATE_LIMITS; None: the project's "api" scope.
    ratelimit_key: str | None = None

    def handle_exception(self, exc):
        if isinstance(exc, VideoError):
            exc = VideoAPIError(exc)
        return super().handle_exception(exc)

    @property
    def ratelimit_scope(self) -> str:
        key = self.ratelimit_key_for_action()
        return f"videos_{key}" if key else "api"

    def ratelimit_key_for_action(self) -> str | None:
        return self.ratelimit_key

    def ratelimit_rate(self) -> str | None:
        key = self.ratelimit_key_for_action()
        return settings.VIDEOS_RATE_LIMITS.get(key, "") if key else None
