"""The original bridge's queue operations on the engine: submit, batch, session, queues.

Priority is the original's (photos.quality.priority_for): user-requested 9;
by score 9 / 5 / 1; no score 5. Routing is the original's: EXIF and
presets on `high`, analysis on `medium`, grouping and exports on `low`
(each job type's default queue). The original's queue names are aliases.
"""

import zoneinfo
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from jobs import services as job_services
from jobs.models import ProcessingJob
from photos import quality
from photos import selectors
from photos.models import Photo
from photos.models import PhotoSession

PHOTO_QUEUES = ("high", "medium", "low")
QUEUE_ALIASES = {
    "high_priority": "high",
    "medium_priority": "medium",
    "low_priority": "low",
}
ORIGINAL_QUEUE_NAMES = {ours: theirs for theirs, ours in QUEUE_ALIASES.items()}
CONFIG_KEYS = ("apply_preset", "timezone")


def queue_name_resolve(*, name: str) -> str:
    """Our queue for one of ours or the original's names; ValidationError otherwise."""
    resolved = QUEUE_ALIASES.get(name, name)
    if resolved not in PHOTO_QUEUES:
        raise ValidationError(
            {
                "queue_name": f"unknown queue {name!r}; use one of "
                + ", ".join([*PHOTO_QUEUES, *QUEUE_ALIASES])
            }
        )
    return resolved


def analysis_params(*, config: dict | None) -> dict[str, Any]:
    """The analysis job's params from a submit's `config`; ValidationError names bad keys.

    `apply_preset` (bool): develop the photo with the preset its rules select.
    `timezone` (IANA name): where camera clocks without an EXIF offset were.
    """
    config = config or {}
    if not isinstance(config, dict):
        raise ValidationError({"config": "config must be an object"})
    problems = [
        f"unknown key {key!r} (known: {', '.join(CONFIG_KEYS)})"
        for key in config
        if key not in CONFIG_KEYS
    ]
    params: dict[str, Any] = {}
    if "apply_preset" in config:
        if not isinstance(config["apply_preset"], bool):
            problems.append("apply_preset must be true or false")
        params["apply_preset"] = config["apply_preset"]
    if config.get("timezone") is not None:
        name = config["timezone"]
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            problems.append(f"timezone {name!r} is not an IANA time zone")
        params["timezone"] = name
    if problems:
        raise ValidationError({"config": problems})
    return params


def photo_submit(
    *,
    photo: Photo,
    submitted_by: Any,
    user_requested: bool = False,
    config: dict | None = None,
) -> tuple[ProcessingJob, bool]:
    """Queue a photo's analysis at the original's priority (created=True), or answer the
    analysis already queued or running for it (created=False)."""
    params = analysis_params(config=config)
    priority = quality.priority_for(photo.score, user_requested=user_requested)
    with transaction.atomic():
        Photo.objects.select_for_update().filter(pk=photo.pk).first()
        active = selectors.photo_active_job(
            photo=photo, job_type=selectors.ANALYZE_JOB_TYPE
        )
        if active is not None:
            return active, False
        job = job_services.job_submit(
            job_type=selectors.ANALYZE_JOB_TYPE,
            target=photo,
            params=params,
            priority=priority,
            submitted_by=submitted_by,
        )
    return job, True


@dataclass
class BatchSubmission:
    """Jobs queued now, and photos whose analysis was already queued or running."""

    jobs: list[ProcessingJob] = field(default_factory=list)
    photos: list[Photo] = field(default_factory=list)
    already_active: dict[int, ProcessingJob] = field(default_factory=dict)


def photos_submit_batch(
    *,
    photos: list[Photo],
    submitted_by: Any,
    priority: int | None = None,
    params: dict | None = None,
) -> BatchSubmission:
    """Queue the analysis of many photos in one transaction (messages sent together on commit).

    Each photo gets `priority`, or when it is None the original's priority
    for its score. Photos whose analysis is already queued or running keep
    that job.
    """
    submission = BatchSubmission()
    if not photos:
        return submission
    ids = [photo.pk for photo in photos]
    with transaction.atomic():
        list(Photo.objects.select_for_update().filter(pk__in=ids).values_list("pk"))
        idle_ids = set(
            selectors.photos_without_active_job(
                photos=Photo.objects.filter(pk__in=ids),
                job_type=selectors.ANALYZE_JOB_TYPE,
            ).values_list("pk", flat=True)
        )
        submission.photos = [photo for photo in photos if photo.pk in idle_ids]
        submission.jobs = job_services.job_submit_batch(
            items=[
                {
                    "target": photo,
                    "priority": priority
                    if priority is not None
                    else quality.priority_for(photo.score),
                    "params": params or {},
                }
                for photo in submission.photos
            ],
            job_type=selectors.ANALYZE_JOB_TYPE,
            submitted_by=submitted_by,
        )
    for photo in photos:
        if photo.pk not in idle_ids:
            job = selectors.photo_active_job(
                photo=photo, job_type=selectors.ANALYZE_JOB_TYPE
            )
            if job is not None:
                submission.already_active[photo.pk] = job
    return submission


def session_submit(
    *, session: PhotoSession, submitted_by: Any, auto_select: bool = True
) -> BatchSubmission:
    """Queue the analysis of every photo of a session in one transaction.

    With `auto_select`, each photo is developed with the preset its rules
    select once it is analysed. The session is grouped when its last photo
    is through (see photos.services.analysis).
    """
    photos = list(session.photos.order_by("taken_at", "id"))
    return photos_submit_batch(
        photos=photos,
        submitted_by=submitted_by,
        params={"apply_preset": bool(auto_select)},
    )


def _queues(queue_name: str | None) -> list[str]:
    if queue_name:
        return [queue_name_resolve(name=queue_name)]
    return list(PHOTO_QUEUES)


def photo_queues_pause(*, paused_by: Any, queue_name: str | None = None) -> list[str]:
    """Pause one photo queue, or all three; shared with other apps' jobs of those queues."""
    queues = _queues(queue_name)
    for queue in queues:
        job_services.queue_pause(queue=queue, paused_by=paused_by)
    return queues


def photo_queues_resume(*, queue_name: str | None = None) -> list[str]:
    """Resume one photo queue, or all three."""
    queues = _queues(queue_name)
    for queue in queues:
        job_services.queue_resume(queue=queue)
    return queues


def photo_jobs_purge(
    *, purged_by: Any, queue_name: str | None = None
) -> dict[str, Any]:
    """Cancel the waiting photos jobs (of one queue, or all) and drop their messages.

    Other apps' jobs in the same queues are left alone; the engine's queue
    purge (/api/v1/queues/{name}/purge/) empties a whole queue.
    """
    queues = _queues(queue_name)
    job_ids = []
    for queue in queues:
        job_ids += selectors.photo_jobs_waiting_ids(queue=queue)
    cancelled = job_services.jobs_purge(job_ids=job_ids, purged_by=purged_by)
    return {"queues": queues, "purged": cancelled}
