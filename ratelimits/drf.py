"""The DRF side: a throttle per view scope, staff counted against their own limit."""

from typing import Any

from rest_framework import exceptions
from rest_framework.throttling import BaseThrottle

from ratelimits import limits

DEFAULT_SCOPE = "api"
STAFF_SCOPE = "staff"


class RateLimited(exceptions.Throttled):
    """DRF's Throttled (429 + Retry-After) with the project's JSON error body."""

    def __init__(self, usage: limits.Usage):
        self.wait = usage.retry_after_s
        self.detail = limits.error_body(usage)


def _scope_and_rate(request: Any, view: Any) -> tuple[str, str | None]:
    scope = getattr(view, "ratelimit_scope", DEFAULT_SCOPE)
    rate = view.ratelimit_rate() if hasattr(view, "ratelimit_rate") else None
    user = getattr(request, "user", None)
    if scope == DEFAULT_SCOPE and getattr(user, "is_staff", False):
        # An operator's bulk work must not hit the limit meant for scripts.
        scope = STAFF_SCOPE
    return scope, rate


class AdaptiveRateThrottle(BaseThrottle):
    """Counts a DRF request per user (or IP) in the view's `ratelimit_scope` (default "api").

    A view may define `ratelimit_rate()` to give the rate of a scope its app
    owns; otherwise settings.API_RATE_LIMITS[scope] applies.
    """

    def allow_request(self, request: Any, view: Any) -> bool:
        scope, rate = _scope_and_rate(request, view)
        usage = limits.hit(
            request._request, scope=scope, key=limits.user_or_ip_key(request), rate=rate
        )
        if usage is not None and not usage.allowed:
            raise RateLimited(usage)
        return True
