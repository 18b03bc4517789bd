"""Receipts: upload, OCR queued once per receipt (the original's `ocr-{id}` key), fields stored."""

import contextlib
import datetime
import logging
import warnings
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from PIL import Image

from documents import receipts as receipt_reading
from documents.errors import InvalidReceiptImage
from documents.extraction import ExtractionError
from documents.extraction import TooLarge
from documents.extraction import sniff_file
from documents.models import Receipt
from documents.models import ReceiptLineItem
from documents.selectors import receipt_active_job
from documents.services.documents import clean_filename
from documents.services.webhooks import webhook_notify
from jobs import services as job_services
from jobs.errors import JobStateConflict
from jobs.errors import PermanentJobError
from jobs.files import delete_quietly
from jobs.models import ProcessingJob

logger = logging.getLogger(__name__)

OCR_JOB_TYPE = "documents.receipt_ocr"
MAX_IMAGE_PIXELS = 40_000_000
# Statuses of a receipt that process-all takes up: never read, or read
# attempts abandoned (cancelled) — see selectors.receipt_list_unqueued.
Progress = Callable[..., None]


def receipt_ocr_key(receipt: Receipt) -> str:
    """The original system's job id of a receipt's OCR."""
    return f"ocr-{receipt.pk}"


def _check_image(upload: UploadedFile) -> str:
    """'jpeg' or 'png', or a refusal: by content, header only, within the pixel limit."""
    if upload.size == 0:
        raise InvalidReceiptImage("the image file is empty")
    if upload.size > settings.DOCUMENTS_RECEIPT_MAX_BYTES:
        raise TooLarge(
            f"the image has {upload.size} bytes; at most "
            f"{settings.DOCUMENTS_RECEIPT_MAX_BYTES} are accepted"
        )
    try:
        kind = sniff_file(upload, filename=upload.name or "")
    except ExtractionError as error:
        raise InvalidReceiptImage(f"not a JPEG or PNG image: {error}") from None
    if not kind.is_image:
        raise InvalidReceiptImage(f"a receipt must be a JPEG or PNG image, not {kind}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload, formats=["JPEG", "PNG"]) as image:
                width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge("the image has too many pixels") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidReceiptImage(f"the image cannot be read: {error}") from None
    finally:
        upload.seek(0)
    if width * height > MAX_IMAGE_PIXELS:
        raise TooLarge(
            f"the image is {width}x{height} pixels; at most {MAX_IMAGE_PIXELS} are accepted"
        )
    return kind.value


def receipt_create(
    *,
    owner: Any,
    image: UploadedFile,
    purchase_date: datetime.date,
    submitted_by: Any = None,
) -> Receipt:
    """Store a receipt image; with DOCUMENTS_RECEIPT_AUTO_OCR its OCR is queued (sent on commit)."""
    _check_image(image)
    receipt = Receipt(
        owner=owner,
        filename=clean_filename(image.name or "receipt"),
        size_bytes=image.size,
        purchase_date=purchase_date,
    )
    receipt.image.save(receipt.filename, image, save=False)
    try:
        with transaction.atomic():
            receipt.full_clean(exclude=["image"])
            receipt.save(force_insert=True)
            if settings.DOCUMENTS_RECEIPT_AUTO_OCR:
                receipt_ocr_submit(receipt=receipt, submitted_by=submitted_by or owner)
    except BaseException:
        delete_quietly(receipt.image.name)
        raise
    return receipt


def receipt_ocr_submit(
    *, receipt: Receipt, submitted_by: Any = None
) -> tuple[ProcessingJob, bool]:
    """Queue a receipt's OCR unless one is waiting or running; returns (job, newly queued).

    The key `ocr-{id}` is unique among active jobs (the engine enforces
    it), so two concurrent requests queue one job. A receipt read before
    is read again under a key of its own run (`ocr-{id}-{run}`), since a
    completed job keeps answering for its key.
    """
    with transaction.atomic():
        receipt = Receipt.objects.select_for_update().get(pk=receipt.pk)
        active = receipt_active_job(receipt=receipt)
        if active is not None:
            return active, False
        job, created = job_services.job_submit_or_get(
            job_type=OCR_JOB_TYPE,
            target=receipt,
            submitted_by=submitted_by,
            idempotency_key=receipt_ocr_key(receipt),
        )
        if not created and job.status == ProcessingJob.Status.COMPLETED:
            job, created = job_services.job_submit_or_get(
                job_type=OCR_JOB_TYPE,
                target=receipt,
                submitted_by=submitted_by,
                idempotency_key=f"{receipt_ocr_key(receipt)}-{receipt.ocr_runs + 1}",
            )
        if created:
            Receipt.objects.filter(pk=receipt.pk).update(
                status=Receipt.Status.QUEUED,
                ocr_runs=receipt.ocr_runs + 1,
                error="",
                updated_at=timezone.now(),
            )
        return job, created


def receipts_ocr_process_all(
    *, receipts: QuerySet[Receipt], submitted_by: Any = None
) -> list[tuple[Receipt, ProcessingJob]]:
    """Queue OCR for each receipt of the selection that has none waiting or running.

    At most DOCUMENTS_RECEIPT_PROCESS_ALL_MAX per call, oldest first; one
    transaction, so the messages go out together on commit.
    """
    queued = []
    with transaction.atomic():
        for receipt in receipts.order_by("created_at", "id")[
            : settings.DOCUMENTS_RECEIPT_PROCESS_ALL_MAX
        ]:
            job, created = receipt_ocr_submit(
                receipt=receipt, submitted_by=submitted_by
            )
            if created:
                queued.append((receipt, job))
    return queued


def receipt_ocr_run(
    *, receipt_id: int, progress: Progress, is_last_attempt: bool = True
) -> dict:
    """Read a receipt by OCR and store its fields and line items. Idempotent: items are replaced.

    A storage error (OSError) is retried, and the receipt shows `retrying`
    meanwhile; an unreadable image fails at once.
    """
    receipt = Receipt.objects.get(id=receipt_id)
    Receipt.objects.filter(id=receipt_id).update(
        status=Receipt.Status.PROCESSING, updated_at=timezone.now()
    )
    progress(10, 100, f"Reading receipt {receipt_id}...")
    try:
        with receipt.image.open("rb") as stored:
            data = stored.read()
    except FileNotFoundError:
        raise PermanentJobError(
            f"the image of receipt {receipt_id} is missing"
        ) from None
    except OSError as error:
        if not is_last_attempt:
            Receipt.objects.filter(id=receipt_id).update(
                status=Receipt.Status.RETRYING, error=str(error)[:2000]
            )
        raise
    try:
        reading = receipt_reading.read_receipt(data, max_pixels=MAX_IMAGE_PIXELS)
    except ExtractionError as error:
        raise PermanentJobError(str(error)) from None
    progress(90, 100, f"Storing the fields of receipt {receipt_id}...")
    fields = reading.fields
    with transaction.atomic():
        if not Receipt.objects.select_for_update().filter(id=receipt_id).exists():
            raise Receipt.DoesNotExist(f"receipt {receipt_id} was deleted")
        ReceiptLineItem.objects.filter(receipt_id=receipt_id).delete()
        ReceiptLineItem.objects.bulk_create(
            ReceiptLineItem(
                receipt_id=receipt_id,
                order=order,
                name=item.name[:300],
                quantity=item.quantity,
                price=item.price,
                unit_price=item.unit_price,
            )
            for order, item in enumerate(fields.items)
        )
        Receipt.objects.filter(id=receipt_id).update(
            status=Receipt.Status.COMPLETED,
            ocr_text=reading.text,
            merchant=(fields.merchant or "")[:200],
            receipt_date=fields.date,
            total=fields.total,
            subtotal=fields.subtotal,
            tax=fields.tax,
            currency=fields.currency or "",
            confidence=fields.confidence,
            ocr_score=reading.ocr_score,
            rotation=reading.rotation,
            error="",
            processed_at=timezone.now(),
            updated_at=timezone.now(),
        )
        result = {"receipt_id": receipt_id, **fields.as_dict()}
        webhook_notify(
            owner_id=receipt.owner_id, event="receipt.completed", payload=result
        )
    return result


def receipt_mark_failed(*, receipt_id: int, error: str) -> None:
    """Record a receipt's OCR as failed for good, and tell its owner's webhook."""
    receipt = Receipt.objects.filter(id=receipt_id).first()
    if receipt is None:
        return
    Receipt.objects.filter(id=receipt_id).update(
        status=Receipt.Status.FAILED, error=error[:5000], updated_at=timezone.now()
    )
    webhook_notify(
        owner_id=receipt.owner_id,
        event="receipt.failed",
        payload={"receipt_id": receipt_id, "status": "failed", "error": error[:5000]},
    )


def receipts_clear_failed(*, receipts: QuerySet[Receipt]) -> int:
    """Put failed receipts of the selection back to pending (the original's clear-failed)."""
    return receipts.filter(status=Receipt.Status.FAILED).update(
        status=Receipt.Status.PENDING, error="", updated_at=timezone.now()
    )


def receipt_delete(*, receipt: Receipt, deleted_by: Any = None) -> None:
    """Cancel its waiting or running OCR, delete the receipt, and its image after commit."""
    active = receipt_active_job(receipt=receipt)
    if active is not None:
        with contextlib.suppress(JobStateConflict):  # it finished meanwhile
            job_services.job_cancel(job_id=active.id, cancelled_by=deleted_by)
    name = receipt.image.name
    with transaction.atomic():
        Receipt.objects.filter(pk=receipt.pk).delete()
        transaction.on_commit(lambda: delete_quietly(name))
