"""Job types of the documents app: thin wrappers, ids in, one service call each."""

from typing import Any

from documents import services
from documents.errors import PageUnavailable
from documents.errors import WebhookUnavailable
from jobs.context import JobContext
from jobs.context import JobFailure
from jobs.registry import register_job_type


def _document_status_fields(job: Any) -> dict:
    """The original task status's document_id and chunk_count (known once done)."""
    result = job.result if isinstance(job.result, dict) else {}
    return {
        "document_id": int(job.object_id) if job.object_id else None,
        "chunk_count": result.get("chunk_count"),
    }


def _document_failed(failure: JobFailure) -> None:
    services.document_mark_failed(
        document_id=int(failure.target_id), error=failure.error
    )


def _document_cancelled(failure: JobFailure) -> None:
    services.document_mark_cancelled(document_id=int(failure.target_id))


def _receipt_failed(failure: JobFailure) -> None:
    services.receipt_mark_failed(receipt_id=int(failure.target_id), error=failure.error)


@register_job_type(
    services.PROCESS_JOB_TYPE,
    queue="high",
    priority=7,
    # Extraction stops itself at DOCUMENTS_EXTRACTION_TIME_LIMIT_S (600 s by
    # default); chunking and indexing follow.
    soft_time_limit_s=900,
    time_limit_s=960,
    max_retries=2,
    on_final_failure=_document_failed,
    on_cancel=_document_cancelled,
    status_fields=_document_status_fields,
)
def process(job: JobContext) -> dict:
    """Extract, chunk and index an uploaded document (idempotent: chunks are replaced)."""
    return services.document_process(
        document_id=int(job.target_id), progress=job.progress
    )


@register_job_type(
    services.WEBPAGE_JOB_TYPE,
    queue="low",
    priority=5,
    soft_time_limit_s=900,
    time_limit_s=960,
    max_retries=3,
    retry_for=(PageUnavailable, OSError),
    on_final_failure=_document_failed,
    on_cancel=_document_cancelled,
    status_fields=_document_status_fields,
)
def webpage(job: JobContext) -> dict:
    """Fetch a web page (SSRF-guarded), then extract, chunk and index it."""
    return services.document_webpage_process(
        document_id=int(job.target_id), progress=job.progress
    )


@register_job_type(
    services.OCR_JOB_TYPE,
    queue="medium",
    priority=5,
    soft_time_limit_s=120,
    time_limit_s=180,
    max_retries=3,
    retry_for=(OSError,),
    on_final_failure=_receipt_failed,
)
def receipt_ocr(job: JobContext) -> dict:
    """Read a receipt by OCR into its fields and line items (idempotent)."""
    return services.receipt_ocr_run(
        receipt_id=int(job.target_id),
        progress=job.progress,
        is_last_attempt=job.is_last_attempt,
    )


@register_job_type(
    services.WEBHOOK_JOB_TYPE,
    queue="low",
    priority=4,
    soft_time_limit_s=60,
    time_limit_s=90,
    retry_for=(WebhookUnavailable,),
)
def webhook(job: JobContext) -> dict:
    """Deliver one signed event to its endpoint; every attempt is logged."""
    return services.webhook_deliver(
        endpoint_id=int(job.target_id),
        event=job.params["event"],
        event_id=job.params["event_id"],
        body=job.params["body"],
        attempt=job.attempt,
        is_last_attempt=job.is_last_attempt,
        job_id=job.id,
    )


@register_job_type(
    services.REINDEX_JOB_TYPE, queue="low", priority=3, soft_time_limit_s=1800
)
def reindex_collection(job: JobContext) -> dict:
    """Re-index a collection's chunks in its current search language."""
    return services.collection_reindex(collection_id=int(job.target_id))
