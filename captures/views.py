"""The device and operator routes of the original contract (/v1/...), kept exactly.

`POST /v1/ingest` is a plain Django view: devices authenticate with their own
key, not as users. The /v1/admin/ routes are DRF views for staff (session or
token). Every error answer is JSON: {"error": code, "detail": message, ...}.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework import status
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from captures import selectors
from captures import services
from captures.errors import CaptureError
from captures.errors import DeviceAuthenticationFailed
from captures.ingest_request import parse_ingest_request
from captures.models import Capture
from inputs.middleware import checks_own_body
from jobs import selectors as job_selectors
from jobs import task_states
from jobs.models import ProcessingJob
from ratelimits import limits as ratelimit

logger = logging.getLogger(__name__)


def _error(status_code: int, code: str, detail: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail, **extra}, status=status_code)


# Device ingest --------------------------------------------------------------------


def _rate(scope: str) -> str:
    return settings.CAPTURES_RATE_LIMITS.get(scope, "")


def _refused(exc: CaptureError, usage) -> JsonResponse:
    return ratelimit.apply_headers(
        JsonResponse(exc.as_dict(), status=exc.status), usage
    )


def _failed_auth(request: HttpRequest, *, key: str) -> bool:
    """Count a failed device authentication against the client's IP (and the
    device id it named); False once that budget was already used up."""
    ip = ratelimit.client_ip(request)
    usage = ratelimit.hit(
        request,
        scope="auth_failures_ip",
        key=f"ip:{ip}",
        rate=_rate("auth_failures_ip"),
    )
    if key.startswith("device:"):
        usage = ratelimit.hit(
            request,
            scope="auth_failures_device",
            key=key,
            rate=_rate("auth_failures_device"),
        )
    return usage is None or usage.allowed


def _authenticate(request: HttpRequest):
    """The device of the X-Device-Key header, its ingest usage, and no refusal; or a
    refusal. Before the body is read: one indexed lookup and one Redis round trip."""
    ip_key = f"ip:{ratelimit.client_ip(request)}"
    per_ip = ratelimit.Check("ingest_ip", ip_key, _rate("ingest_ip"))
    try:
        device = services.device_for_key(api_key=request.headers.get("X-Device-Key"))
    except DeviceAuthenticationFailed as exc:
        failures = ratelimit.Check(
            "auth_failures_ip", ip_key, _rate("auth_failures_ip")
        )
        usages = ratelimit.hit_all(request, [per_ip, failures])
        refused = ratelimit.first_refusal(usages)
        if refused is not None:
            return None, None, ratelimit.too_many_requests(refused)
        return None, None, _refused(exc, usages[1])
    except CaptureError as exc:  # a disabled device
        usages = ratelimit.hit_all(request, [per_ip])
        return None, None, _refused(exc, usages[0])
    usages = ratelimit.hit_all(
        request,
        [
            per_ip,
            ratelimit.Check(
                "auth_failures_ip", ip_key, _rate("auth_failures_ip"), take=False
            ),
            ratelimit.Check("ingest", f"device:{device.device_id}", _rate("ingest")),
        ],
    )
    refused = ratelimit.first_refusal(usages)
    if refused is not None:
        return None, None, ratelimit.too_many_requests(refused)
    return device, usages[2], None


@checks_own_body
@csrf_exempt
def ingest(request: HttpRequest) -> JsonResponse:
    """POST /v1/ingest: store a device's image and queue its analysis.

    The key is checked before the body is read: an unknown key costs one
    indexed lookup, never the parse of a large body.
    """
    if request.method != "POST":
        ip = ratelimit.client_ip(request)
        usage = ratelimit.hit(
            request, scope="ingest_ip", key=f"ip:{ip}", rate=_rate("ingest_ip")
        )
        response = ratelimit.apply_headers(
            _error(405, "method_not_allowed", "use POST"), usage
        )
        response["Allow"] = "POST"
        return response
    device, usage, refusal = _authenticate(request)
    if refusal is not None:
        return refusal
    try:
        incoming = parse_ingest_request(request)
        if incoming.device_id != device.device_id:
            if not _failed_auth(request, key=f"device:{incoming.device_id}"):
                return ratelimit.too_many_requests(request.ratelimit_usage)
            raise DeviceAuthenticationFailed("unknown device_id or wrong X-Device-Key")
        result = services.capture_ingest(
            device=device,
            image=incoming.image_bytes(),
            captured_at=incoming.captured_at,
            idempotency_key=incoming.idempotency_key,
        )
    except CaptureError as exc:
        return _refused(exc, getattr(request, "ratelimit_usage", usage))
    except ValidationError as exc:
        return ratelimit.apply_headers(
            _error(400, "invalid", "; ".join(exc.messages)), usage
        )
    job_id = str(result.job.id) if result.job is not None else None
    task_id = result.job.task_id if result.job is not None else None
    body = {
        "capture_id": result.capture.public_id,
        "device_id": device.device_id,
        "status": result.capture.status,
        "job_id": job_id,
        "task_id": task_id,
    }
    if not result.created:
        body["duplicate"] = True
    response = JsonResponse(body, status=201 if result.created else 200)
    return ratelimit.apply_headers(response, usage)


# Operator routes ----------------------------------------------------------------


def _sync_flag(request: Request) -> bool:
    raw = request.query_params.get("sync", "false").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off", ""):
        return False
    raise exceptions.ValidationError(
        {"detail": f"sync must be true or false, not {raw!r}"}
    )


class OperatorView(APIView):
    """Staff only (anonymous 401, others 403); rate-limited per user; JSON errors
    in the project's one shape (config.api_errors)."""

    permission_classes = [IsAdminUser]
    ratelimit_scope = "admin"

    def ratelimit_rate(self) -> str:
        return settings.CAPTURES_RATE_LIMITS.get(self.ratelimit_scope, "")


SYNC_PARAMETER = OpenApiParameter(
    "sync", OpenApiTypes.BOOL, description="run now in this request instead of queueing"
)


class AdminStatsView(OperatorView):
    @extend_schema(responses=OpenApiTypes.OBJECT, tags=["v1 operator"])
    def get(self, request: Request) -> Response:
        """Devices, captures by status, and jobs running / reserved / waiting."""
        workers = job_selectors.worker_list()
        return Response(
            {
                "devices": selectors.device_list().count(),
                "captures": selectors.capture_counts_by_status(),
                "queue": {
                    "active_jobs": sum(len(worker["active"]) for worker in workers),
                    "reserved_jobs": sum(len(worker["reserved"]) for worker in workers),
                    "total_queued": selectors.waiting_job_count(),
                },
            }
        )


class AdminProcessCaptureView(OperatorView):
    ratelimit_scope = "process_capture"

    @extend_schema(
        request=None,
        parameters=[SYNC_PARAMETER],
        responses=OpenApiTypes.OBJECT,
        tags=["v1 operator"],
    )
    def post(self, request: Request, capture_id: str) -> Response:
        """Queue one capture's analysis (sync=false) or run it in this request (sync=true)."""
        sync = _sync_flag(request)
        try:
            capture = selectors.capture_get(capture_id=capture_id)
        except Capture.DoesNotExist:
            raise exceptions.NotFound(f"no capture {capture_id}") from None
        if not sync:
            job = services.capture_reprocess(capture=capture, submitted_by=request.user)
            return Response(
                {
                    "capture_id": capture.public_id,
                    "task_id": job.task_id,
                    "status": "queued",
                    "sync": False,
                },
            )
        job = services.capture_analyze_now(capture=capture, submitted_by=request.user)
        if job.status != ProcessingJob.Status.COMPLETED:
            return Response(
                {
                    "error": "analysis_failed",
                    "detail": job.error_message,
                    "capture_id": capture.public_id,
                    "task_id": job.task_id,
                },
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return Response(
            {
                "capture_id": capture.public_id,
                "observation_id": job.result["observation_id"],
                "task_id": job.task_id,
                "status": "completed",
                "sync": True,
            }
        )


class AdminProcessPendingView(OperatorView):
    ratelimit_scope = "process_pending"

    @extend_schema(
        request=None,
        parameters=[SYNC_PARAMETER],
        responses=OpenApiTypes.OBJECT,
        tags=["v1 operator"],
    )
    def post(self, request: Request) -> Response:
        """Queue the batch job that queues every pending capture, or run it inline (sync=true)."""
        sync = _sync_flag(request)
        pending_count = selectors.capture_list_pending_unqueued().count()
        if sync:
            result = services.captures_process_pending(submitted_by=request.user)
            return Response(
                {
                    "task_id": None,
                    "message": f"{result['queued']} pending capture(s) queued for analysis",
                    "pending_count": pending_count,
                    "sync": True,
                }
            )
        job = services.captures_process_pending_submit(submitted_by=request.user)
        return Response(
            {
                "task_id": job.task_id,
                "message": "Batch processing queued",
                "pending_count": pending_count,
                "sync": False,
            }
        )


def _task_result(job: ProcessingJob) -> Any:
    if job.status == ProcessingJob.Status.COMPLETED:
        return job.result
    if job.status in (ProcessingJob.Status.FAILED, ProcessingJob.Status.RETRYING):
        return {"error": job.error_message, "attempts": job.attempts}
    if job.status == ProcessingJob.Status.CANCELLED:
        return {"error": job.error_message}
    if job.status == ProcessingJob.Status.RUNNING and job.progress:
        progress = task_states.job_task_progress(job)
        return {
            "current": progress["current"],
            "total": progress["total"],
            "message": progress["message"],
        }
    return None


class AdminTaskStatusView(OperatorView):
    @extend_schema(responses=OpenApiTypes.OBJECT, tags=["v1 operator"])
    def get(self, request: Request, task_id: str) -> Response:
        """The state of a job (by its id or any of its sends' task ids), from the job row."""
        job = job_selectors.job_for_task_id(task_id=task_id)
        if job is None:
            raise exceptions.NotFound(f"no task {task_id}")
        return Response(
            {
                "task_id": task_id,
                "state": task_states.job_task_state(job),
                "result": _task_result(job),
                "ready": job.status in ProcessingJob.FINISHED_STATUSES,
                "successful": job.status == ProcessingJob.Status.COMPLETED,
            }
        )


class AdminQueueInfoView(OperatorView):
    @extend_schema(responses=OpenApiTypes.OBJECT, tags=["v1 operator"])
    def get(self, request: Request) -> Response:
        """Active and reserved tasks per worker, worker names and total pool size."""
        workers = job_selectors.worker_list()
        active = {worker["name"]: len(worker["active"]) for worker in workers}
        reserved = {worker["name"]: len(worker["reserved"]) for worker in workers}
        return Response(
            {
                "active": {"tasks": sum(active.values()), "by_worker": active},
                "reserved": {"tasks": sum(reserved.values()), "by_worker": reserved},
                "workers": [worker["name"] for worker in workers],
                "pool_size": sum(worker["pool_size"] or 0 for worker in workers),
            }
        )
