"""DRF's exception handler, extended: Django and job-engine errors become JSON 4xx answers."""

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
    return {"detail": exc.messages[0] if len(exc.messages) == 1 else exc.messages}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        return Response(_validation_detail(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, JobStateConflict):
        exc = Conflict(str(exc))
    elif isinstance(exc, ObjectDoesNotExist | Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)


# URL prefixes whose clients are programs: their 404s are JSON too.
JSON_PATH_PREFIXES = ("/api/", "/v1/")


def page_not_found(request, exception):
    """Django's 404 for a URL no view matched: JSON for API paths, the page elsewhere."""
    if request.path.startswith(JSON_PATH_PREFIXES):
        return JsonResponse({"detail": f"no API route {request.path}"}, status=404)
    return defaults.page_not_found(request, exception)
