"""Rate limits per device, user or IP: django-ratelimit counters, adaptive to queue load.

Counting: django-ratelimit's `get_usage(..., increment=True)` keeps one counter
per key and fixed window in the Django cache. On the Redis cache the first hit
is `SET NX EX` and the others `INCR`, both atomic on the server, so every web
process shares exact counts (Django's `incr` runs `EXISTS` before `INCR`; the
gap can only recreate, without expiry, the counter of a window that has
already ended - the window is part of the key - never miscount a live one).

Adaptive: the effective limit falls linearly from 100% to 50% of the
configured one as queue load goes from 0 to 100%, where load = jobs in status
`queued` / CAPTURES_QUEUE_CAPACITY, read at most every CAPTURES_LOAD_CACHE_S
per process. The counter key stays the same whatever the effective limit.

When the cache is unreachable the request is let through (fail open, logged):
the same Redis is the broker, so ingest would be failing anyway, and a device
must not be locked out by a limiter outage. RATELIMIT_FAIL_OPEN is set to
match for the cases django-ratelimit handles itself.
"""

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import JsonResponse
from django_ratelimit.core import _split_rate
from django_ratelimit.core import get_usage
from rest_framework import exceptions
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

HEADER_LIMIT = "X-RateLimit-Limit"
HEADER_REMAINING = "X-RateLimit-Remaining"
HEADER_PERIOD = "X-RateLimit-Period"


@dataclass(frozen=True)
class Usage:
    scope: str
    limit: int  # effective, after the load adjustment
    configured_limit: int
    count: int
    period_s: int
    reset_in_s: int
    load: float

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)


# Queue load ------------------------------------------------------------------

_load_lock = threading.Lock()
_load_cache: dict[str, float] = {}


def queue_load() -> float:
    """Jobs waiting in status queued / CAPTURES_QUEUE_CAPACITY, 0..1, cached briefly per process."""
    from captures import selectors

    max_age_s = settings.CAPTURES_LOAD_CACHE_S
    now = time.monotonic()
    with _load_lock:
        if max_age_s > 0 and now - _load_cache.get("at", -math.inf) < max_age_s:
            return _load_cache["load"]
    capacity = max(1, settings.CAPTURES_QUEUE_CAPACITY)
    load = min(1.0, selectors.queued_job_count() / capacity)
    with _load_lock:
        _load_cache.update(at=now, load=load)
    return load


def queue_load_forget() -> None:
    """Drop the cached load figure (tests, or after a setting change)."""
    with _load_lock:
        _load_cache.clear()


def effective_limit(configured: int, load: float) -> int:
    """The configured limit scaled from 100% (load 0) down to 50% (load 1), at least 1."""
    load = min(1.0, max(0.0, load))
    # The epsilon keeps float noise (10 * 0.9 = 9.000000000000002) from
    # rounding a whole figure up.
    return max(1, math.ceil(configured * (1 - 0.5 * load) - 1e-9))


# Keys ---------------------------------------------------------------------------


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the X-Forwarded-For entry added by the
    outermost of CAPTURES_TRUSTED_PROXY_COUNT proxies (never a client-supplied one)."""
    trusted = settings.CAPTURES_TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if trusted > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= trusted:
            return hops[-trusted]
    return request.META.get("REMOTE_ADDR") or "unknown"


def user_or_ip_key(request: Any) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request)}"


# Counting -------------------------------------------------------------------


def configured_rate(scope: str) -> str | None:
    """The rate ("10/m") configured for a scope; None or "" means not limited."""
    rates = settings.CAPTURES_RATE_LIMITS
    return rates.get(scope, rates.get("default")) or None


def hit(request: HttpRequest, *, scope: str, key: str) -> Usage | None:
    """Count one request of `key` in `scope`; None when the scope is not limited."""
    if not settings.CAPTURES_RATELIMIT_ENABLED:
        return None
    rate = configured_rate(scope)
    if rate is None:
        return None
    try:
        usage = get_usage(
            request,
            group=f"captures.{scope}",
            key=lambda group, request: key,
            rate=rate,
            increment=True,
        )
    except (redis.RedisError, OSError):
        logger.exception(
            "rate limit counter unavailable; request let through scope=%s", scope
        )
        return None
    if usage is None:  # disabled, or the cache failed with RATELIMIT_FAIL_OPEN
        return None
    if usage["limit"] == 0:  # the cache failed and RATELIMIT_FAIL_OPEN is off
        return Usage(scope, 0, 0, 1, 60, 60, 0.0)
    configured = usage["limit"]
    load = queue_load()
    _, period_s = _split_rate(rate)
    return Usage(
        scope=scope,
        limit=effective_limit(configured, load),
        configured_limit=configured,
        count=usage["count"],
        period_s=period_s,
        reset_in_s=max(1, int(usage["time_left"])),
        load=round(load, 4),
    )


def apply_headers(response: HttpResponse, usage: Usage | None) -> HttpResponse:
    """X-RateLimit-Limit/-Remaining/-Period, and Retry-After when over the limit."""
    if usage is None:
        return response
    response[HEADER_LIMIT] = str(usage.limit)
    response[HEADER_REMAINING] = str(usage.remaining)
    response[HEADER_PERIOD] = str(usage.period_s)
    if not usage.allowed:
        response["Retry-After"] = str(usage.reset_in_s)
    return response


def error_body(usage: Usage) -> dict[str, Any]:
    return {
        "error": "rate_limited",
        "detail": (
            f"rate limit of {usage.limit} requests per {usage.period_s}s exceeded; "
            f"retry in {usage.reset_in_s}s"
        ),
        "limit": usage.limit,
        "period_s": usage.period_s,
        "retry_after_s": usage.reset_in_s,
    }


def too_many_requests(usage: Usage) -> JsonResponse:
    """The 429 answer, headers included."""
    return apply_headers(JsonResponse(error_body(usage), status=429), usage)


# DRF ------------------------------------------------------------------------------


class RateLimited(exceptions.Throttled):
    """DRF's Throttled (429 + Retry-After) with the project's JSON error body."""

    def __init__(self, usage: Usage):
        self.wait = usage.reset_in_s
        self.detail = error_body(usage)


class AdaptiveRateThrottle(BaseThrottle):
    """Counts a DRF request per user (or IP) in the view's `ratelimit_scope` (default "api")."""

    def allow_request(self, request: Any, view: Any) -> bool:
        scope = getattr(view, "ratelimit_scope", "api")
        usage = hit(request._request, scope=scope, key=user_or_ip_key(request))
        # The middleware copies the headers onto whatever response follows.
        request._request.ratelimit_usage = usage
        if usage is not None and not usage.allowed:
            raise RateLimited(usage)
        return True


class RateLimitHeadersMiddleware:
    """Adds the X-RateLimit-* headers to every response of a rate-limited request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        usage = getattr(request, "ratelimit_usage", None)
        if usage is not None and HEADER_LIMIT not in response:
            apply_headers(response, usage)
        return response
