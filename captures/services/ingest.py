"""Storing a capture a device sent, exactly once, with its analysis queued."""

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError
from django.db import transaction
from django.utils import timezone

from captures import imaging
from captures import selectors
from captures.models import Capture
from captures.models import Device
from captures.services.devices import device_lock_for_ingest
from jobs import services as job_services
from jobs.models import ProcessingJob

logger = logging.getLogger(__name__)

ANALYZE_JOB_TYPE = selectors.ANALYZE_JOB_TYPE


@dataclass
class IngestResult:
    capture: Capture
    job: ProcessingJob | None
    created: bool


def _delete_file_quietly(name: str) -> None:
    from django.core.files.storage import default_storage

    try:
        default_storage.delete(name)
    except OSError:
        logger.exception("could not delete the file of a capture not stored: %s", name)


def capture_ingest(
    *,
    device: Device,
    image: bytes,
    captured_at: datetime | None = None,
    idempotency_key: str | None = None,
) -> IngestResult:
    """Validate and store one image of the device, and queue its analysis on commit.

    Idempotent: a replay of the idempotency key, or the same bytes from the
    same device within CAPTURES_DEDUP_WINDOW_S, returns the stored capture
    (created=False). The file is written inside the transaction that writes
    the row and removed again if that transaction fails. Raises the
    captures.errors for bad images.
    """
    info = imaging.inspect_image(
        image,
        max_bytes=settings.CAPTURES_MAX_IMAGE_SIZE,
        max_pixels=settings.CAPTURES_MAX_IMAGE_PIXELS,
    )
    digest = hashlib.sha256(image).hexdigest()
    stored_name = ""
    try:
        with transaction.atomic():
            # The device's row stays locked until commit: the duplicate
            # checks below see every capture of the device committed before.
            device_lock_for_ingest(device=device)
            now = timezone.now()
            existing = selectors.capture_duplicate_get(
                device=device, sha256=digest, idempotency_key=idempotency_key, now=now
            )
            if existing is not None:
                return IngestResult(
                    capture=existing,
                    job=selectors.capture_latest_job(capture=existing),
                    created=False,
                )
            capture = Capture(
                device=device,
                content_type=info.format.content_type,
                size_bytes=len(image),
                width=info.width,
                height=info.height,
                sha256=digest,
                captured_at=captured_at,
                received_at=now,
                idempotency_key=idempotency_key or None,
            )
            capture.image.save(
                f"upload{info.format.extension}", ContentFile(image), save=False
            )
            stored_name = capture.image.name
            capture.save(force_insert=True)
            job = None
            if settings.CAPTURES_AUTO_PROCESS:
                job = job_services.job_submit(job_type=ANALYZE_JOB_TYPE, target=capture)
    except IntegrityError:
        if stored_name:
            _delete_file_quietly(stored_name)
        # A concurrent replay with the same key won (only possible where the
        # device lock is not taken, e.g. inside a caller's transaction).
        existing = Capture.objects.filter(
            device=device, idempotency_key=idempotency_key
        ).first()
        if idempotency_key and existing is not None:
            return IngestResult(
                capture=existing,
                job=selectors.capture_latest_job(capture=existing),
                created=False,
            )
        raise
    except BaseException:
        if stored_name:
            _delete_file_quietly(stored_name)
        raise
    logger.info(
        "capture_ingested capture_id=%s device_id=%s size_bytes=%s job_id=%s",
        capture.public_id,
        device.device_id,
        capture.size_bytes,
        job.id if job else None,
    )
    return IngestResult(capture=capture, job=job, created=True)
