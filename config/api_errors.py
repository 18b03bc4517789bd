"""Errors as clients see them: one JSON shape, `{"error": code, "detail": ...}`, on the
API and device routes, whatever raised them (DRF, Django, the job engine, a bug)."""

import logging

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from jobs.errors import JobStateConflict

logger = logging.getLogger(__name__)

# URL prefixes whose clients are programs: every error they get is JSON.
JSON_PATH_PREFIXES = (
    "/api/",
    "/v1/",
    "/queue/",
    "/jobs/",
    "/receipts",
    "/healthz",
    "/readyz",
)

ERROR_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
    500: "server_error",
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource's state does not allow this."
    default_code = "conflict"


def _validation_detail(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for m in messages]
            for field, messages in exc.message_dict.items()
        }
    return exc.messages[0] if len(exc.messages) == 1 else exc.messages


def error_body(status_code: int, data, code: str | None = None) -> dict:
    """The one error shape: a machine code and a human (or per-field) detail."""
    if isinstance(data, dict) and "error" in data:
        return data
    if isinstance(data, dict) and set(data) == {"detail"}:
        data = data["detail"]
    return {"error": code or ERROR_CODES.get(status_code, "error"), "detail": data}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        return Response(
            error_body(400, _validation_detail(exc), "invalid"),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, JobStateConflict):
        exc = Conflict(str(exc))
    elif isinstance(exc, ObjectDoesNotExist | Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is not None:
        code = (
            "invalid"
            if isinstance(exc, exceptions.ValidationError)
            else getattr(exc, "default_code", None)
        )
        response.data = error_body(response.status_code, response.data, code)
    return response


def _wants_json(request) -> bool:
    return request.path.startswith(JSON_PATH_PREFIXES)


def page_not_found(request, exception):
    """Django's 404 for a URL no view matched: JSON for API paths, the page elsewhere."""
    if _wants_json(request):
        return JsonResponse(error_body(404, f"no route {request.path}"), status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request, exception):
    """400 for requests Django refused itself (too many fields or files, bad headers)."""
    if _wants_json(request):
        detail = str(exception) or "the request is malformed"
        return JsonResponse(error_body(400, detail), status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _wants_json(request):
        detail = str(exception) or "You do not have permission to do this."
        return JsonResponse(error_body(403, detail), status=403)
    return defaults.permission_denied(request, exception)


def server_error(request):
    """500: JSON for API paths (nothing internal in it), the page elsewhere."""
    if _wants_json(request):
        return JsonResponse(
            error_body(500, "the server failed to answer this request; it is logged"),
            status=500,
        )
    return defaults.server_error(request)
