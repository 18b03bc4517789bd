"""Refuse, before any view or authentication runs, input that would crash a parser or
poison the database: NUL in the path or query string, JSON nested too deep or holding
NUL, NUL in urlencoded form fields."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import TooManyFieldsSent
from django.core.exceptions import TooManyFilesSent
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import JsonResponse
from django.http import QueryDict
from django.http.multipartparser import MultiPartParserError
from django.urls import is_valid_path
from rest_framework.exceptions import ParseError

from inputs import scanning
from inputs.parsers import raw_json_check

JSON_CONTENT_TYPES = ("application/json",)
SLASH_OPTIONAL_PREFIXES = ("/api/v1/",)
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def refusal(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status)


def _is_json(request: HttpRequest) -> bool:
    content_type = request.content_type or ""
    return content_type in JSON_CONTENT_TYPES or content_type.endswith("+json")


def checks_own_body(view):
    """Mark a view that checks its body itself, after cheaper checks (e.g. a device key)."""
    view.checks_own_body = True
    return view


class RequestGuardMiddleware:
    """The project-wide input guard; its answers are JSON `{"error", "detail"}` 4xx."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refused = self._url_refusal(request)
        return refused or self.get_response(request)

    def _url_refusal(self, request: HttpRequest) -> HttpResponse | None:
        if "\x00" in request.path:
            return refusal(400, "invalid_path", "the URL path contains a NUL character")
        for key, values in request.GET.lists():
            if scanning.text_has_nul(key) or scanning.text_has_nul(values):
                return refusal(
                    400,
                    "invalid_query",
                    f"the query parameter {key.replace(chr(0), '?')!r} contains a NUL character",
                )
        return None

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "checks_own_body", False):
            return None
        if request.method in ("GET", "HEAD", "OPTIONS", "DELETE", "TRACE"):
            return None
        try:
            return self._body_refusal(request)
        except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent) as exc:
            return refusal(400, "invalid_form", f"the form body is malformed: {exc}")
        except RequestDataTooBig:
            return refusal(
                413,
                "request_too_large",
                f"the request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes",
            )

    def _body_refusal(self, request: HttpRequest) -> HttpResponse | None:
        if _is_json(request):
            try:
                raw_json_check(request.body)
            except ParseError as exc:
                return refusal(400, "invalid_json", str(exc.detail))
        elif request.content_type in FORM_CONTENT_TYPES:
            # Parsed once here; DRF reuses Django's parse of a POST form body
            # (and parses PUT/PATCH multipart itself, with the same check).
            if request.method == "POST":
                fields = request.POST
            elif request.content_type == "application/x-www-form-urlencoded":
                fields = QueryDict(request.body, encoding=request.encoding)
            else:
                return None
            for key, values in fields.lists():
                if scanning.text_has_nul(key) or scanning.text_has_nul(values):
                    return refusal(
                        400, "invalid_form", "a form field contains a NUL character"
                    )
            for key, uploaded in request.FILES.items():
                if "\x00" in key or "\x00" in (uploaded.name or ""):
                    return refusal(
                        400, "invalid_form", "a file's name contains a NUL character"
                    )
        return None


class OptionalTrailingSlashMiddleware:
    """An API path without its trailing slash is served as the path with it.

    The original systems' clients call e.g. `/api/v1/tasks/{id}` without the
    slash. Django's APPEND_SLASH would answer 301, which a client following
    it turns from DELETE or POST into GET; here the request is served as it
    came, and links the API builds keep their canonical slash.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(SLASH_OPTIONAL_PREFIXES) and not path.endswith("/"):
            urlconf = getattr(request, "urlconf", None)
            if not is_valid_path(path, urlconf) and is_valid_path(path + "/", urlconf):
                request.path_info = path + "/"
                request.path = request.path + "/"
        return self.get_response(request)
