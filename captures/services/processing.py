"""Analysing captures into Observations, and queueing that work."""

import logging
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from captures import analysis
from captures import imaging
from captures import selectors
from captures import vision_remote
from captures.models import Capture
from captures.models import Observation
from jobs import selectors as job_selectors
from jobs import services as job_services
from jobs.errors import PermanentJobError
from jobs.models import ProcessingJob

logger = logging.getLogger(__name__)

ANALYZE_JOB_TYPE = selectors.ANALYZE_JOB_TYPE
PROCESS_PENDING_JOB_TYPE = "captures.process_pending"
CLEANUP_JOB_TYPE = "captures.cleanup"
USER_REQUESTED_PRIORITY = 8
BATCH_SIZE = 500
THUMBNAIL_SIZE = 320


def _read_image(capture: Capture) -> bytes:
    with capture.image.open("rb") as image_file:
        return image_file.read()


def _previous_image(capture: Capture) -> bytes | None:
    previous = selectors.capture_previous(capture=capture)
    if previous is None:
        return None
    try:
        return _read_image(previous)
    except OSError:
        logger.warning(
            "previous capture %s of %s has no readable file; motion skipped",
            previous.public_id,
            capture.public_id,
        )
        return None


def _run_local_analysis(image: bytes, previous: bytes | None) -> analysis.Analysis:
    ocr = settings.CAPTURES_OCR_ENABLED
    try:
        return analysis.analyze_image(image, previous=previous, ocr=ocr)
    except ValueError as exc:
        if previous is None:
            raise PermanentJobError(f"the image cannot be analysed: {exc}") from exc
        # A previous frame that doesn't decode only costs the motion figure.
        logger.warning("motion skipped: %s", exc)
        return analysis.analyze_image(image, previous=None, ocr=ocr)


def _remote_labels(image: bytes, content_type: str) -> list[str]:
    if not settings.CAPTURES_VISION_API_URL:
        return []
    try:
        return vision_remote.labels_for_image(
            image,
            content_type=content_type,
            base_url=settings.CAPTURES_VISION_API_URL,
            api_key=settings.CAPTURES_VISION_API_KEY,
            model=settings.CAPTURES_VISION_MODEL,
            timeout_s=settings.CAPTURES_VISION_TIMEOUT_S,
        )
    except vision_remote.VisionError as exc:
        logger.warning("remote vision analyser failed, labels skipped: %s", exc)
        return []


def _index(values: list[str]) -> str:
    cleaned = sorted(
        {value.strip().lower() for value in values if value and value.strip()}
    )
    return "\n" + "\n".join(cleaned) + "\n" if cleaned else ""


def _observation_fields(
    result: analysis.Analysis, remote_labels: list[str]
) -> dict[str, Any]:
    data = asdict(result)
    return {
        "width": data["width"],
        "height": data["height"],
        "brightness": data["brightness"],
        "sharpness": data["sharpness"],
        "dominant_colors": data["dominant_colors"],
        "motion": data["motion"],
        "people_count": len(data["people"]),
        "people": data["people"],
        "faces_count": len(data["faces"]),
        "faces": data["faces"],
        "codes": data["codes"],
        "code_index": _index([code["value"] for code in data["codes"]]),
        "text": data["text"],
        "text_boxes": data["text_boxes"],
        "labels": data["labels"],
        "remote_labels": remote_labels,
        "label_index": _index([*data["labels"], *remote_labels]),
        "timings": data["timings_ms"],
    }


def _thumbnail_store(capture: Capture, image: bytes) -> None:
    """Write the capture's thumbnail once (a derived file); later runs keep it."""
    if capture.thumbnail:
        return
    try:
        thumbnail = imaging.thumbnail_jpeg(image, size=THUMBNAIL_SIZE)
    except (OSError, ValueError) as exc:
        logger.warning("no thumbnail for %s: %s", capture.public_id, exc)
        return
    capture.thumbnail.save(
        f"{capture.public_id}.jpg", ContentFile(thumbnail), save=False
    )
    stored = Capture.objects.filter(pk=capture.pk, thumbnail="").update(
        thumbnail=capture.thumbnail.name
    )
    if not stored:  # a concurrent run stored one first: keep that one
        capture.thumbnail.storage.delete(capture.thumbnail.name)


def image_analyze(
    *, image: bytes, previous: bytes | None = None, ocr: bool | None = None
) -> dict[str, Any]:
    """The captures analyser on any image (e.g. a video frame), as a JSON-ready dict.

    People, faces, codes, text, colours, brightness, sharpness, labels, and
    motion against `previous`. Raises ValueError for bytes that are not an
    image. Stores nothing.
    """
    use_ocr = settings.CAPTURES_OCR_ENABLED if ocr is None else ocr
    return asdict(analysis.analyze_image(image, previous=previous, ocr=use_ocr))


def capture_analyze(*, capture_id: int) -> Observation:
    """Analyse a capture and write its Observation; mark it completed.

    Idempotent: the observation of this analyser version is replaced, never
    duplicated. The analysis runs outside any transaction; motion is measured
    against the device's previous capture. Raises PermanentJobError when the
    image is missing or cannot be analysed (retrying cannot help).
    """
    capture = Capture.objects.select_related("device").get(pk=capture_id)
    Capture.objects.filter(pk=capture_id).update(status=Capture.Status.PROCESSING)
    try:
        image = _read_image(capture)
    except OSError as exc:
        raise PermanentJobError(
            f"the image file of {capture.public_id} is missing: {exc}"
        ) from exc
    result = _run_local_analysis(image, _previous_image(capture))
    _thumbnail_store(capture, image)
    remote_labels = _remote_labels(image, capture.content_type)
    with transaction.atomic():
        observation, _ = Observation.objects.update_or_create(
            capture=capture,
            analyzer_name=analysis.ANALYZER_NAME,
            analyzer_version=analysis.ANALYZER_VERSION,
            defaults=_observation_fields(result, remote_labels),
        )
        Capture.objects.filter(pk=capture_id).update(
            status=Capture.Status.COMPLETED,
            processed_at=timezone.now(),
            error_message="",
        )
    logger.info(
        "capture_analyzed capture_id=%s observation_id=%s labels=%s",
        capture.public_id,
        observation.pk,
        ",".join(observation.labels),
    )
    return observation


def capture_analyze_result(*, capture_id: int) -> dict[str, Any]:
    """Analyse a capture (see capture_analyze) and summarise the observation as a job result."""
    observation = capture_analyze(capture_id=capture_id)
    return {
        "capture_id": observation.capture.public_id,
        "observation_id": observation.pk,
        "labels": observation.labels,
        "people_count": observation.people_count,
        "faces_count": observation.faces_count,
        "codes": [code["value"] for code in observation.codes],
    }


def capture_mark_failed(*, capture_id: int, error: str) -> None:
    """Record that the capture's analysis failed for good (the engine's final-failure hook)."""
    Capture.objects.filter(pk=capture_id).update(
        status=Capture.Status.FAILED,
        error_message=error[:2000],
        processed_at=timezone.now(),
    )


def capture_reprocess(*, capture: Capture, submitted_by: Any = None) -> ProcessingJob:
    """Queue the capture's analysis at user-requested priority (sent on commit).

    A job of this capture still waiting to start is returned instead of
    queueing a second one.
    """
    waiting = job_selectors.job_waiting_for_target(
        target=capture, job_type=ANALYZE_JOB_TYPE
    )
    if waiting is not None:
        return waiting
    return job_services.job_submit(
        job_type=ANALYZE_JOB_TYPE,
        target=capture,
        priority=USER_REQUESTED_PRIORITY,
        submitted_by=submitted_by,
    )


def capture_analyze_now(*, capture: Capture, submitted_by: Any = None) -> ProcessingJob:
    """Run the capture's analysis in this process, as a job (hooks and history included); returns it finished."""
    return job_services.job_run_now(
        job_type=ANALYZE_JOB_TYPE, target=capture, submitted_by=submitted_by
    )


def captures_process_pending(
    *, submitted_by: Any = None, limit: int | None = None
) -> dict:
    """Queue an analysis job for every pending capture that has none active.

    Idempotent: captures already covered by a queued, retrying or running
    job are skipped. Jobs are written in batches, each sent on its commit.
    """
    pending = selectors.capture_list_pending_unqueued()
    capture_ids = list(pending.values_list("pk", flat=True))
    if limit is not None:
        capture_ids = capture_ids[:limit]
    queued = 0
    for start in range(0, len(capture_ids), BATCH_SIZE):
        batch = Capture.objects.filter(pk__in=capture_ids[start : start + BATCH_SIZE])
        jobs = job_services.job_submit_batch(
            job_type=ANALYZE_JOB_TYPE,
            items=[{"target": capture} for capture in batch],
            submitted_by=submitted_by,
        )
        queued += len(jobs)
    logger.info("captures_process_pending queued=%s", queued)
    return {"queued": queued}


def captures_process_pending_submit(*, submitted_by: Any = None) -> ProcessingJob:
    """Queue the batch job that queues every pending capture (sent on commit)."""
    return job_services.job_submit(
        job_type=PROCESS_PENDING_JOB_TYPE, submitted_by=submitted_by
    )
