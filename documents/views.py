"""The original systems' routes, kept exactly: document upload per agent, receipts OCR queue.

DRF views (token or session auth, the project's JSON errors, rate limits
per route); each calls one service or selector and shapes the answer the
original clients read.
"""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from documents import selectors
from documents import services
from documents.api import serializers as s
from documents.api.errors import RefusalsMixin
from inputs.pagination import StrictPageNumberPagination
from jobs.models import ProcessingJob

UPLOAD_MESSAGE = "Document uploaded successfully and queued for processing"
URL_MESSAGE = "Web page queued for fetching and processing"
# The original queue's job states (RQ's words) for the engine's statuses.
RQ_STATUS = {
    ProcessingJob.Status.QUEUED: "queued",
    ProcessingJob.Status.RUNNING: "started",
    ProcessingJob.Status.RETRYING: "scheduled",
    ProcessingJob.Status.COMPLETED: "finished",
    ProcessingJob.Status.FAILED: "failed",
    ProcessingJob.Status.CANCELLED: "canceled",
}
RQ_JOB_STATUSES = ["queued", "started", "scheduled", "finished", "failed", "canceled"]
RECEIPT_QUEUE_NAME = "receipt-ocr"


class OriginalRouteView(RefusalsMixin, APIView):
    """Authenticated; counted against DOCUMENTS_RATE_LIMITS[`rate_key`] per user."""

    rate_key = ""

    @property
    def ratelimit_scope(self) -> str:
        return f"documents_{self.rate_key}"

    def ratelimit_rate(self) -> str | None:
        return settings.DOCUMENTS_RATE_LIMITS.get(self.rate_key)


def _processing_note(task_id: str) -> str:
    return f"Use GET /api/v1/tasks/{task_id} to check progress"


# DOCUMENTS ------------------------------------------------------------------


class AgentUploadView(OriginalRouteView):
    rate_key = "upload"

    @extend_schema(
        request={"multipart/form-data": s.UploadSerializer},
        responses=s.UploadAnswerSerializer,
        tags=["documents (original routes)"],
    )
    def post(self, request: Request, agent_id: str) -> Response:
        """Store a file in the agent's collection and queue its processing (high queue)."""
        collection = selectors.collection_get(collection_id=agent_id, user=request.user)
        incoming = s.UploadSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        submission = services.document_upload(
            collection=collection,
            upload=incoming.validated_data["file"],
            uploaded_by=request.user,
        )
        task_id = submission.job.task_id
        return Response(
            {
                "id": submission.document.id,
                "task_id": task_id,
                "status": "queued",
                "filename": submission.document.filename,
                "message": UPLOAD_MESSAGE,
                "processing_note": _processing_note(task_id),
            }
        )


class AgentUrlView(OriginalRouteView):
    rate_key = "url"

    @extend_schema(
        request=s.UrlSubmitSerializer,
        responses=s.UrlAnswerSerializer,
        tags=["documents (original routes)"],
    )
    def post(self, request: Request, agent_id: str) -> Response:
        """Queue the fetch (SSRF-guarded) and processing of a web page (low queue)."""
        collection = selectors.collection_get(collection_id=agent_id, user=request.user)
        incoming = s.UrlSubmitSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        submission = services.document_submit_url(
            collection=collection,
            url=incoming.validated_data["url"],
            submitted_by=request.user,
        )
        task_id = submission.job.task_id
        return Response(
            {
                "id": submission.document.id,
                "task_id": task_id,
                "status": "queued",
                "url": submission.document.source_url,
                "filename": submission.document.filename,
                "message": URL_MESSAGE,
                "processing_note": _processing_note(task_id),
            }
        )


# RECEIPTS -------------------------------------------------------------------


class ReceiptsView(OriginalRouteView):
    rate_key = "receipt_upload"

    @extend_schema(
        responses=s.ReceiptPageSerializer,
        parameters=[
            OpenApiParameter("page", int, description="A page number, from 1."),
            OpenApiParameter("page_size", int, description="Receipts per page, 1-500."),
        ],
        tags=["receipts (original routes)"],
    )
    def get(self, request: Request) -> Response:
        """The caller's receipts, newest first (staff: everyone's), paginated."""
        paginator = StrictPageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.receipt_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(
            s.ReceiptSerializer(page, many=True).data
        )

    @extend_schema(
        request={"multipart/form-data": s.ReceiptCreateSerializer},
        responses={201: s.ReceiptSerializer},
        tags=["receipts (original routes)"],
    )
    def post(self, request: Request) -> Response:
        """Store a receipt image (multipart `file`, `purchase_date`) and queue its OCR."""
        incoming = s.ReceiptCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        receipt = services.receipt_create(
            owner=request.user,
            image=incoming.validated_data["file"],
            purchase_date=incoming.validated_data["purchase_date"],
        )
        receipt = selectors.receipt_get(receipt_id=receipt.pk, user=request.user)
        return Response(s.ReceiptSerializer(receipt).data, status=201)


class ReceiptDetailView(OriginalRouteView):
    rate_key = "receipt_status"

    @extend_schema(
        operation_id="receipts_detail",
        responses=s.ReceiptSerializer,
        tags=["receipts (original routes)"],
    )
    def get(self, request: Request, receipt_id: str) -> Response:
        """One of the caller's receipts with its OCR fields and line items."""
        receipt = selectors.receipt_get(receipt_id=receipt_id, user=request.user)
        return Response(s.ReceiptSerializer(receipt).data)

    @extend_schema(responses={204: None}, tags=["receipts (original routes)"])
    def delete(self, request: Request, receipt_id: str) -> Response:
        """Delete a receipt (its waiting or running OCR is cancelled)."""
        receipt = selectors.receipt_get(receipt_id=receipt_id, user=request.user)
        services.receipt_delete(receipt=receipt, deleted_by=request.user)
        return Response(status=204)


USER_ID_PARAMETER = OpenApiParameter(
    "user_id",
    OpenApiTypes.INT,
    description="whose receipts (default: the caller's; another user's: staff only)",
)


def _receipts_owner(request: Request):
    """The user whose receipts a request may act on: `user_id` is the caller's unless staff."""
    incoming = s.ProcessAllQuerySerializer(data=request.query_params)
    incoming.is_valid(raise_exception=True)
    user_id = incoming.validated_data.get("user_id")
    if user_id is None or user_id == request.user.pk:
        return request.user
    if not request.user.is_staff:
        raise exceptions.PermissionDenied("you can only act on your own receipts")
    return selectors.user_get(user_id=user_id)


class ProcessAllView(OriginalRouteView):
    rate_key = "receipt_process_all"

    @extend_schema(
        request=None,
        parameters=[USER_ID_PARAMETER],
        responses=s.ProcessAllAnswerSerializer,
        tags=["receipts (original routes)"],
    )
    def post(self, request: Request) -> Response:
        """Queue OCR for every receipt of the user that has none waiting, running or done."""
        owner = _receipts_owner(request)
        queued = services.receipts_ocr_process_all(
            receipts=selectors.receipt_list_unqueued(owner=owner),
            submitted_by=request.user,
        )
        return Response(
            {
                "queued": len(queued),
                "job_ids": [job.idempotency_key or str(job.id) for _, job in queued],
            }
        )


class QueueStatusView(OriginalRouteView):
    rate_key = "receipt_status"

    @extend_schema(
        parameters=[OpenApiParameter("receipt_id", OpenApiTypes.INT)],
        responses={200: s.QueueInfoSerializer},
        description=(
            "Without `receipt_id`: the caller's receipts (staff: all) by OCR "
            "state, in the original queue's terms. With it: that receipt's "
            "latest OCR job (ReceiptJobStatus shape)."
        ),
        tags=["receipts (original routes)"],
    )
    def get(self, request: Request) -> Response:
        """The OCR queue's counts, or one receipt's OCR job."""
        incoming = s.QueueStatusQuerySerializer(data=request.query_params)
        incoming.is_valid(raise_exception=True)
        receipt_id = incoming.validated_data.get("receipt_id")
        if receipt_id is None:
            counts = selectors.receipt_ocr_counts(user=request.user)
            return Response({"name": RECEIPT_QUEUE_NAME, **counts})
        receipt = selectors.receipt_get(receipt_id=receipt_id, user=request.user)
        job = selectors.receipt_ocr_job(receipt=receipt)
        if job is None:
            raise exceptions.NotFound(f"receipt {receipt_id} has no OCR job")
        failed = job.status == ProcessingJob.Status.FAILED
        return Response(
            {
                "job_id": job.idempotency_key or services.receipt_ocr_key(receipt),
                "status": RQ_STATUS[job.status],
                "created_at": job.queued_at,
                "started_at": job.started_at,
                "ended_at": job.completed_at,
                "result": job.result
                if job.status == ProcessingJob.Status.COMPLETED
                else None,
                "exc_info": (job.traceback or job.error_message) if failed else None,
            }
        )


class ClearFailedView(OriginalRouteView):
    rate_key = "receipt_process_all"

    @extend_schema(
        request=None,
        parameters=[USER_ID_PARAMETER],
        responses=s.ClearFailedAnswerSerializer,
        tags=["receipts (original routes)"],
    )
    def post(self, request: Request) -> Response:
        """Put the user's failed receipts back to pending, for the next process-all."""
        owner = _receipts_owner(request)
        cleared = services.receipts_clear_failed(
            receipts=selectors.receipt_list_owned(owner=owner)
        )
        return Response({"cleared": cleared})
