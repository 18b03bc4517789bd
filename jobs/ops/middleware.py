"""Counts the requests the project's rate limiter refused, by scope, for /metrics."""

from django.http import HttpRequest
from django.http import HttpResponse

from jobs.metrics_counters import counter_add


class RateLimitRefusalCounterMiddleware:
    """Adds one to `ratelimit_refusals{scope}` for each 429 answer; other answers cost nothing.

    The limiter leaves its usage on the request (scope included), whether
    the 429 came from the DRF throttle, a plain view or the login limits.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 429:
            usage = getattr(request, "ratelimit_usage", None)
            counter_add(
                "ratelimit_refusals", {"scope": getattr(usage, "scope", "") or "other"}
            )
        return response
