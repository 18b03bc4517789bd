"""Receipt services against the database: upload checks, OCR queued once, fields stored."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from documents import selectors
from documents import services
from documents.errors import InvalidReceiptImage
from documents.extraction import TooLarge
from documents.models import Receipt
from documents.tests import samples
from documents.tests.factories import ReceiptFactory
from jobs.errors import PermanentJobError
from jobs.models import ProcessingJob

pytestmark = pytest.mark.django_db

PURCHASED = datetime.date(2025, 3, 14)


def image_upload(data: bytes | None = None, name: str = "receipt.jpg"):
    return SimpleUploadedFile(name, data or samples.receipt_image(samples.GROCERY))


def noop_progress(current, total=100, message=""):
    pass


def ocr_jobs() -> list[ProcessingJob]:
    return list(ProcessingJob.objects.filter(job_type=services.OCR_JOB_TYPE))


def test_upload_stores_the_image_and_queues_its_ocr_once(user, settings):
    receipt = services.receipt_create(
        owner=user, image=image_upload(), purchase_date=PURCHASED
    )
    stored = Receipt.objects.get(pk=receipt.pk)
    assert stored.status == Receipt.Status.QUEUED
    assert stored.purchase_date == PURCHASED
    assert stored.image.name.startswith(f"receipts/{user.pk}/")
    (job,) = ocr_jobs()
    assert job.idempotency_key == f"ocr-{receipt.pk}"
    assert job.queue == "medium"


def test_upload_without_auto_ocr_leaves_the_receipt_pending(user, settings):
    settings.DOCUMENTS_RECEIPT_AUTO_OCR = False
    receipt = services.receipt_create(
        owner=user, image=image_upload(), purchase_date=PURCHASED
    )
    assert Receipt.objects.get(pk=receipt.pk).status == Receipt.Status.PENDING
    assert ocr_jobs() == []


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"%PDF-1.4 not an image", "r.pdf", "must be a JPEG or PNG"),
        (b"\xff\xd8\xff\xe0 truncated", "r.jpg", "cannot be read"),
        (b"hello", "r.txt", "must be a JPEG or PNG"),
    ],
)
def test_upload_refuses_what_is_not_a_readable_image(user, data, name, message):
    with pytest.raises(InvalidReceiptImage, match=message):
        services.receipt_create(
            owner=user, image=image_upload(data, name), purchase_date=PURCHASED
        )
    assert Receipt.objects.count() == 0


def test_upload_refuses_an_image_with_too_many_pixels(user):
    huge = Image.new("L", (9000, 5000), 255)
    with pytest.raises(TooLarge, match="pixels"):
        services.receipt_create(
            owner=user,
            image=image_upload(samples.png(huge), "huge.png"),
            purchase_date=PURCHASED,
        )


def test_a_receipt_is_never_queued_twice_while_waiting(user):
    receipt = services.receipt_create(
        owner=user, image=image_upload(), purchase_date=PURCHASED
    )
    job, created = services.receipt_ocr_submit(receipt=receipt, submitted_by=user)
    assert created is False
    assert job.id == ocr_jobs()[0].id
    queued = services.receipts_ocr_process_all(
        receipts=Receipt.objects.filter(owner=user), submitted_by=user
    )
    assert queued == []
    assert len(ocr_jobs()) == 1


def test_process_all_queues_each_pending_receipt_of_the_owner(user, other_user):
    mine = ReceiptFactory.create_batch(3, owner=user)
    ReceiptFactory(owner=other_user)
    ReceiptFactory(owner=user, status=Receipt.Status.COMPLETED)
    queued = services.receipts_ocr_process_all(
        receipts=selectors.receipt_list_unqueued(owner=user), submitted_by=user
    )
    assert sorted(receipt.pk for receipt, _ in queued) == sorted(r.pk for r in mine)
    assert {job.idempotency_key for _, job in queued} == {f"ocr-{r.pk}" for r in mine}
    again = services.receipts_ocr_process_all(
        receipts=selectors.receipt_list_unqueued(owner=user), submitted_by=user
    )
    assert again == []


def test_process_all_is_capped(user, settings):
    settings.DOCUMENTS_RECEIPT_PROCESS_ALL_MAX = 2
    ReceiptFactory.create_batch(3, owner=user)
    queued = services.receipts_ocr_process_all(
        receipts=selectors.receipt_list_unqueued(owner=user), submitted_by=user
    )
    assert len(queued) == 2


def test_ocr_reads_the_fields_and_line_items(user):
    receipt = services.receipt_create(
        owner=user, image=image_upload(), purchase_date=PURCHASED
    )
    result = services.receipt_ocr_run(receipt_id=receipt.pk, progress=noop_progress)
    stored = Receipt.objects.get(pk=receipt.pk)
    assert stored.status == Receipt.Status.COMPLETED
    assert stored.merchant == "CORNER GROCERY"
    assert stored.receipt_date == datetime.date(2025, 3, 14)
    assert stored.total == Decimal("10.54")
    assert stored.subtotal == Decimal("9.76")
    assert stored.tax == Decimal("0.78")
    assert stored.confidence > 0.8
    items = [(item.name, item.quantity, item.price) for item in stored.line_items.all()]
    assert items == [
        ("Milk 1L", Decimal("1"), Decimal("1.29")),
        ("Bread", Decimal("2"), Decimal("4.98")),
        ("Apples 1kg", Decimal("1"), Decimal("3.49")),
    ]
    assert "CORNER GROCERY" in stored.ocr_text
    assert result["total"] == "10.54"
    # Idempotent: a second run replaces the items.
    services.receipt_ocr_run(receipt_id=receipt.pk, progress=noop_progress)
    assert stored.line_items.count() == 3


def test_a_read_receipt_is_read_again_under_a_key_of_its_own(user):
    receipt = services.receipt_create(
        owner=user, image=image_upload(), purchase_date=PURCHASED
    )
    ProcessingJob.objects.filter(job_type=services.OCR_JOB_TYPE).update(
        status="completed"
    )
    Receipt.objects.filter(pk=receipt.pk).update(status="completed")
    job, created = services.receipt_ocr_submit(receipt=receipt, submitted_by=user)
    assert created is True
    assert job.idempotency_key == f"ocr-{receipt.pk}-2"


def test_unreadable_image_fails_the_ocr_for_good(user):
    receipt = ReceiptFactory(owner=user)
    receipt.image.save("x.jpg", SimpleUploadedFile("x.jpg", b"\xff\xd8\xff junk"))
    with pytest.raises(PermanentJobError):
        services.receipt_ocr_run(receipt_id=receipt.pk, progress=noop_progress)


def test_missing_image_fails_for_good(user):
    receipt = ReceiptFactory(owner=user)
    with pytest.raises(PermanentJobError, match="missing"):
        services.receipt_ocr_run(receipt_id=receipt.pk, progress=noop_progress)


def test_failed_receipts_are_cleared_back_to_pending(user, other_user):
    mine = ReceiptFactory(owner=user, status=Receipt.Status.FAILED, error="x")
    theirs = ReceiptFactory(owner=other_user, status=Receipt.Status.FAILED)
    cleared = services.receipts_clear_failed(
        receipts=selectors.receipt_list_owned(owner=user)
    )
    assert cleared == 1
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, mine.error) == ("pending", "")
    assert theirs.status == "failed"


def test_mark_failed_records_the_reason(user):
    receipt = ReceiptFactory(owner=user, status=Receipt.Status.PROCESSING)
    services.receipt_mark_failed(receipt_id=receipt.pk, error="PermanentJobError: x")
    receipt.refresh_from_db()
    assert (receipt.status, receipt.error) == ("failed", "PermanentJobError: x")


def test_counts_follow_the_original_queues_terms(user, other_user, staff_user):
    ReceiptFactory(owner=user, status=Receipt.Status.COMPLETED)
    ReceiptFactory(owner=user, status=Receipt.Status.FAILED)
    ReceiptFactory(owner=other_user, status=Receipt.Status.FAILED)
    services.receipt_create(owner=user, image=image_upload(), purchase_date=PURCHASED)
    # In flight with no job: cancelled, counted as pending (in no bucket).
    ReceiptFactory(owner=user, status=Receipt.Status.PROCESSING)
    counts = selectors.receipt_ocr_counts(user=user)
    assert counts == {
        "count": 1,
        "started_jobs": 0,
        "finished_jobs": 1,
        "failed_jobs": 1,
        "scheduled_jobs": 0,
        "deferred_jobs": 0,
    }
    assert selectors.receipt_ocr_counts(user=staff_user)["failed_jobs"] == 2


def test_deleting_a_receipt_cancels_its_waiting_ocr(user):
    receipt = services.receipt_create(
        owner=user, image=image_upload(), purchase_date=PURCHASED
    )
    services.receipt_delete(receipt=receipt, deleted_by=user)
    assert ocr_jobs()[0].status == "cancelled"
    assert not Receipt.objects.exists()
