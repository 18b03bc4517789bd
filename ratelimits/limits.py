"""Who is counted, against which limit: scopes, keys, queue load, headers, the 429 answer.

Scopes and their rates come from settings.API_RATE_LIMITS ("api" for the
REST API, "staff" for staff on it, "login" for failed logins...); an app
may pass its own rate for a scope it owns (captures' ingest). The effective
limit falls linearly from 100% to 50% of the configured one as queue load
(jobs queued / API_QUEUE_CAPACITY) goes from 0 to 1, read at most every
API_LOAD_CACHE_S per process. When Redis is unreachable the request is let
through and the outage logged: the same Redis is the broker, so the work
would be failing anyway, and a device must not be locked out by a limiter
outage.
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

from jobs import selectors as job_selectors
from ratelimits.bucket import BucketRequest
from ratelimits.bucket import bucket_take
from ratelimits.bucket import buckets_take
from ratelimits.bucket import parse_rate

logger = logging.getLogger(__name__)

HEADER_LIMIT = "X-RateLimit-Limit"
HEADER_REMAINING = "X-RateLimit-Remaining"
HEADER_PERIOD = "X-RateLimit-Period"
HEADER_RESET = "X-RateLimit-Reset"


@dataclass(frozen=True)
class Usage:
    scope: str
    limit: int  # effective, after the load adjustment
    configured_limit: int
    remaining: int
    period_s: int
    retry_after_s: int
    reset_s: int
    load: float
    allowed: bool


# Queue load ------------------------------------------------------------------

_load_lock = threading.Lock()
_load_cache: dict[str, float] = {}


def queue_load() -> float:
    """Jobs queued / API_QUEUE_CAPACITY, 0..1; read at most every API_LOAD_CACHE_S per process."""
    max_age_s = settings.API_LOAD_CACHE_S
    now = time.monotonic()
    with _load_lock:
        if max_age_s > 0 and now - _load_cache.get("at", -math.inf) < max_age_s:
            return _load_cache["load"]
    capacity = max(1, settings.API_QUEUE_CAPACITY)
    load = min(1.0, job_selectors.jobs_waiting_count() / capacity)
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
    outermost of API_TRUSTED_PROXY_COUNT proxies (never a client-supplied one)."""
    trusted = settings.API_TRUSTED_PROXY_COUNT
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
    """The rate ("10/m") settings give a scope; None or "" means not limited."""
    return settings.API_RATE_LIMITS.get(scope) or None


def hit(
    request: HttpRequest,
    *,
    scope: str,
    key: str,
    rate: str | None = None,
    take: bool = True,
) -> Usage | None:
    """Count one request of `key` in `scope` (at `rate`, else the scope's setting).

    With take=False nothing is counted: the answer says whether one more
    would be allowed (e.g. failed logins: look first, count only failures).
    Returns None when the scope is not limited or the limiter is off or down.
    The usage is also kept on the request, so the middleware can add the
    headers to whatever answer follows.
    """
    if not settings.API_RATELIMIT_ENABLED:
        return None
    rate_text = rate if rate is not None else configured_rate(scope)
    if not rate_text:
        return None
    configured = parse_rate(rate_text)
    load = queue_load()
    limit = effective_limit(configured.limit, load)
    try:
        state = bucket_take(
            url=settings.API_RATELIMIT_REDIS_URL,
            key=f"{settings.API_RATELIMIT_KEY_PREFIX}{scope}:{key}",
            limit=limit,
            period_s=configured.period_s,
            take=take,
        )
    except (redis.RedisError, OSError):
        logger.exception(
            "rate limit store unavailable; request let through scope=%s", scope
        )
        return None
    usage = Usage(
        scope=scope,
        limit=limit,
        configured_limit=configured.limit,
        remaining=state.remaining,
        period_s=configured.period_s,
        retry_after_s=state.retry_after_s,
        reset_s=state.reset_s,
        load=round(load, 4),
        allowed=state.allowed,
    )
    request.ratelimit_usage = usage
    return usage


@dataclass(frozen=True)
class Check:
    """One bucket of a `hit_all`: a scope, a key, its rate, and whether to take a token."""

    scope: str
    key: str
    rate: str | None = None
    take: bool = True


def hit_all(request: HttpRequest, checks: list[Check]) -> list[Usage | None]:
    """Count several buckets in one Redis round trip; all or nothing.

    If any bucket refuses, no token is taken from the others. Returns a usage
    per check (None for a scope not limited, or when the limiter is off or
    down). The request keeps the usage its headers should show: a refusing
    one, else the one with the least left.
    """
    if not settings.API_RATELIMIT_ENABLED:
        return [None] * len(checks)
    load = queue_load()
    plans = []
    for check in checks:
        rate_text = (
            check.rate if check.rate is not None else configured_rate(check.scope)
        )
        if not rate_text:
            plans.append(None)
            continue
        configured = parse_rate(rate_text)
        plans.append((check, configured, effective_limit(configured.limit, load)))
    wanted = [plan for plan in plans if plan is not None]
    if not wanted:
        return [None] * len(checks)
    try:
        states = buckets_take(
            url=settings.API_RATELIMIT_REDIS_URL,
            requests=[
                BucketRequest(
                    key=f"{settings.API_RATELIMIT_KEY_PREFIX}{check.scope}:{check.key}",
                    limit=limit,
                    period_s=configured.period_s,
                    take=check.take,
                )
                for check, configured, limit in wanted
            ],
        )
    except (redis.RedisError, OSError):
        logger.exception("rate limit store unavailable; request let through")
        return [None] * len(checks)
    found = iter(states)
    usages: list[Usage | None] = []
    for plan in plans:
        if plan is None:
            usages.append(None)
            continue
        check, configured, limit = plan
        state = next(found)
        usages.append(
            Usage(
                scope=check.scope,
                limit=limit,
                configured_limit=configured.limit,
                remaining=state.remaining,
                period_s=configured.period_s,
                retry_after_s=state.retry_after_s,
                reset_s=state.reset_s,
                load=round(load, 4),
                allowed=state.allowed,
            )
        )
    shown = [usage for usage in usages if usage is not None]
    refused = [usage for usage in shown if not usage.allowed]
    request.ratelimit_usage = (refused or sorted(shown, key=lambda u: u.remaining))[0]
    return usages


def first_refusal(usages: list[Usage | None]) -> Usage | None:
    """The first usage that refused, if any."""
    return next(
        (usage for usage in usages if usage is not None and not usage.allowed), None
    )


def apply_headers(response: HttpResponse, usage: Usage | None) -> HttpResponse:
    """X-RateLimit-Limit/-Remaining/-Period/-Reset, and Retry-After when refused."""
    if usage is None:
        return response
    response[HEADER_LIMIT] = str(usage.limit)
    response[HEADER_REMAINING] = str(usage.remaining)
    response[HEADER_PERIOD] = str(usage.period_s)
    response[HEADER_RESET] = str(usage.reset_s)
    if not usage.allowed:
        response["Retry-After"] = str(usage.retry_after_s)
    return response


def error_body(usage: Usage) -> dict[str, Any]:
    return {
        "error": "rate_limited",
        "detail": (
            f"rate limit of {usage.limit} requests per {usage.period_s}s exceeded; "
            f"retry in {usage.retry_after_s}s"
        ),
        "limit": usage.limit,
        "period_s": usage.period_s,
        "retry_after_s": usage.retry_after_s,
    }


def too_many_requests(usage: Usage) -> JsonResponse:
    """The 429 answer, headers included."""
    return apply_headers(JsonResponse(error_body(usage), status=429), usage)
