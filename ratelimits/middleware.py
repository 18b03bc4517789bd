"""Rate-limit middleware: headers on every limited answer, and failed-login limits."""

import json

from django.conf import settings
from django.http import HttpRequest
from django.http import HttpResponse
from rest_framework.exceptions import ParseError

from inputs.parsers import raw_json_check
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


class LoginRateLimitMiddleware:
    """Failed logins (admin and API token) limited per username and per client IP.

    Before a login runs, both budgets are looked at (not taken): an empty one
    answers 429 with Retry-After. A login that fails (the admin form shown
    again, the token view's 400) takes one token from each; success takes
    none, so a user who logs in is never slowed.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or request.path not in settings.API_LOGIN_PATHS:
            return self.get_response(request)
        keys = [f"ip:{limits.client_ip(request)}"]
        username = _username(request)
        if username:
            keys.append(f"user:{username.lower()[:150]}")
        for key in keys:
            usage = limits.hit(request, scope="login", key=key, take=False)
            if usage is not None and not usage.allowed:
                return limits.too_many_requests(usage)
        response = self.get_response(request)
        if _login_failed(request, response):
            for key in keys:
                limits.hit(request, scope="login", key=key)
        return response


def _username(request: HttpRequest) -> str:
    if request.content_type == "application/json":
        try:
            raw_json_check(request.body)
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError, ParseError):
            return ""  # the request guard answers the malformed body
        value = body.get("username") if isinstance(body, dict) else None
        return value if isinstance(value, str) else ""
    value = request.POST.get("username", "")
    return value if isinstance(value, str) else ""


def _login_failed(request: HttpRequest, response: HttpResponse) -> bool:
    # The admin redisplays its form (200) on bad credentials and redirects
    # on success; the token view answers 400 on bad credentials.
    if request.path.startswith("/api/"):
        return response.status_code == 400
    return response.status_code == 200
