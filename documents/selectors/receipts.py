"""Reads of receipts and their OCR jobs."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.db.models import Prefetch
from django.db.models import QuerySet

from documents.models import Receipt
from documents.models import ReceiptLineItem
from documents.selectors.visibility import visible
from jobs import selectors as job_selectors
from jobs.models import ProcessingJob

OCR_JOB_TYPE = "documents.receipt_ocr"
# A receipt in one of these without an active OCR job was cancelled.
_IN_FLIGHT = (
    Receipt.Status.QUEUED,
    Receipt.Status.PROCESSING,
    Receipt.Status.RETRYING,
)


def receipt_list(*, user: Any = None) -> QuerySet[Receipt]:
    """Receipts the user may see, newest first, with owner and line items loaded."""
    receipts = (
        Receipt.objects.select_related("owner")
        .prefetch_related(
            Prefetch("line_items", queryset=ReceiptLineItem.objects.order_by("order"))
        )
        .annotate(
            has_active_job=job_selectors.job_active_for_each_target(
                model=Receipt, job_type=OCR_JOB_TYPE
            )
        )
    )
    return visible(receipts, user=user, owner_path="owner")


def receipt_get(*, receipt_id: Any, user: Any = None) -> Receipt:
    """One visible receipt; Receipt.DoesNotExist otherwise (also for a malformed id)."""
    try:
        receipt_id = int(receipt_id)
    except (TypeError, ValueError):
        raise Receipt.DoesNotExist(f"no receipt {receipt_id!r}") from None
    return receipt_list(user=user).get(id=receipt_id)


def receipt_status(receipt: Receipt) -> str:
    """The status to show: in flight without an active OCR job means it was cancelled (pending again)."""
    active = getattr(receipt, "has_active_job", None)
    if active is False and receipt.status in _IN_FLIGHT:
        return Receipt.Status.PENDING
    return receipt.status


def receipt_list_owned(*, owner: Any) -> QuerySet[Receipt]:
    """The receipts `owner` owns (whoever asks: callers check they may act for them)."""
    return Receipt.objects.filter(owner=owner)


def user_get(*, user_id: int) -> Any:
    """An active user by id; the user model's DoesNotExist otherwise."""
    return get_user_model().objects.get(id=user_id, is_active=True)


def receipt_list_unqueued(*, owner: Any) -> QuerySet[Receipt]:
    """The owner's receipts that need OCR: pending, or in flight with no active job."""
    inactive = ~job_selectors.job_active_for_each_target(
        model=Receipt, job_type=OCR_JOB_TYPE
    )
    return Receipt.objects.filter(
        inactive,
        owner=owner,
        status__in=(Receipt.Status.PENDING, *_IN_FLIGHT),
    )


def receipt_active_job(*, receipt: Receipt) -> ProcessingJob | None:
    """The receipt's OCR job that is queued, retrying or running, if any."""
    return job_selectors.job_latest_for_target(
        target=receipt, job_type=OCR_JOB_TYPE, statuses=ProcessingJob.ACTIVE_STATUSES
    )


def receipt_ocr_job(*, receipt: Receipt) -> ProcessingJob | None:
    """The receipt's most recently queued OCR job, whatever its status."""
    return job_selectors.job_latest_for_target(target=receipt, job_type=OCR_JOB_TYPE)


def receipt_ocr_counts(*, user: Any = None) -> dict[str, int]:
    """Visible receipts by OCR state, in the original queue's terms.

    count: waiting in the queue; started: being read; finished: read;
    failed: failed for good; scheduled: waiting to retry; deferred: never
    (no job here waits on another).
    """
    rows = (
        receipt_list(user=user)
        .prefetch_related(None)
        .order_by()
        .values("status", "has_active_job")
        .annotate(n=Count("id"))
    )
    counts = dict.fromkeys(Receipt.Status.values, 0)
    for row in rows:
        status = row["status"]
        if row["has_active_job"] is False and status in _IN_FLIGHT:
            status = Receipt.Status.PENDING
        counts[status] += row["n"]
    return {
        "count": counts[Receipt.Status.QUEUED],
        "started_jobs": counts[Receipt.Status.PROCESSING],
        "finished_jobs": counts[Receipt.Status.COMPLETED],
        "failed_jobs": counts[Receipt.Status.FAILED],
        "scheduled_jobs": counts[Receipt.Status.RETRYING],
        "deferred_jobs": 0,
    }
