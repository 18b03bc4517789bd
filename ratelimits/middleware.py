"""Adds the X-RateLimit-* headers to every answer of a rate-limited request."""

from django.http import HttpRequest
from django.http import HttpResponse

from ratelimits import limits


class RateLimitHeadersMiddleware:
    """Copies the request's rate-limit usage onto its response, whatever the view answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        usage = getattr(request, "ratelimit_usage", None)
        if usage is not None and limits.HEADER_LIMIT not in response:
            limits.apply_headers(response, usage)
        return response
