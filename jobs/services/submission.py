"""Submitting jobs: one, many, periodic, or run here and now."""

import logging
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import models
from django.db import transaction

from jobs import selectors
from jobs.job_types import JobType
from jobs.job_types import job_type_get
from jobs.models import ProcessingJob
from jobs.services.dispatch import jobs_send_on_commit
from jobs.services.queues import queue_validate

logger = logging.getLogger(__name__)


def _job_type_or_error(job_type: str) -> JobType:
    try:
        return job_type_get(job_type)
    except KeyError:
        raise ValidationError({"job_type": f"unknown job type {job_type!r}"}) from None


def _priority_or_error(priority: Any) -> int:
    if (
        isinstance(priority, bool)
        or not isinstance(priority, int)
        or not 0 <= priority <= 9
    ):
        raise ValidationError(
            {"priority": f"priority must be an integer 0-9, not {priority!r}"}
        )
    return priority


def _existing_for_idempotency_key(
    key: str, *, replay_completed: bool = True
) -> ProcessingJob | None:
    """The job a replay of this key refers to: an active one, or a completed one
    unless replay_completed is off."""
    statuses = list(ProcessingJob.ACTIVE_STATUSES)
    if replay_completed:
        statuses.append(ProcessingJob.Status.COMPLETED)
    return (
        ProcessingJob.objects.filter(idempotency_key=key, status__in=statuses)
        .order_by("-queued_at")
        .first()
    )


def _build_job(
    *,
    spec: JobType,
    target: models.Model | None,
    params: dict | None,
    queue: str | None,
    priority: int | None,
    submitted_by: Any,
    idempotency_key: str | None,
    max_retries: int | None,
) -> ProcessingJob:
    if params is not None and not isinstance(params, dict):
        raise ValidationError({"params": "params must be a JSON object"})
    queue = queue or spec.queue
    queue_validate(queue=queue)
    if max_retries is None:
        max_retries = spec.max_retries
    if max_retries is None:
        max_retries = settings.JOBS_DEFAULT_MAX_RETRIES
    job = ProcessingJob(
        job_type=spec.name,
        queue=queue,
        priority=_priority_or_error(spec.priority if priority is None else priority),
        params=params or {},
        max_retries=max_retries,
        submitted_by=submitted_by if getattr(submitted_by, "pk", None) else None,
        idempotency_key=idempotency_key or None,
    )
    # The first send's task id is the job's own id; resends get new ones.
    job.task_id = str(job.id)
    if target is not None:
        job.content_type = ContentType.objects.get_for_model(target)
        job.object_id = str(target.pk)
    return job


def job_submit(
    *,
    job_type: str,
    target: models.Model | None = None,
    params: dict | None = None,
    queue: str | None = None,
    priority: int | None = None,
    submitted_by: Any = None,
    idempotency_key: str | None = None,
    max_retries: int | None = None,
) -> ProcessingJob:
    """Write a queued job in the caller's transaction; its message is sent on commit.

    Idempotent per `idempotency_key`: a replay returns the active or completed
    job that key already names.
    """
    job, _ = job_submit_or_get(
        job_type=job_type,
        target=target,
        params=params,
        queue=queue,
        priority=priority,
        submitted_by=submitted_by,
        idempotency_key=idempotency_key,
        max_retries=max_retries,
    )
    return job


def job_submit_or_get(
    *,
    job_type: str,
    target: models.Model | None = None,
    params: dict | None = None,
    queue: str | None = None,
    priority: int | None = None,
    submitted_by: Any = None,
    idempotency_key: str | None = None,
    max_retries: int | None = None,
    replay_completed: bool = True,
) -> tuple[ProcessingJob, bool]:
    """job_submit, also telling whether the job is new (False: the key's replay).

    With replay_completed=False a key names only a waiting or running job:
    once it completed, the same key queues a new one (e.g. "never two OCR
    jobs of one receipt at a time", not "OCR each receipt once").
    """
    spec = _job_type_or_error(job_type)
    if idempotency_key:
        existing = _existing_for_idempotency_key(
            idempotency_key, replay_completed=replay_completed
        )
        if existing is not None:
            return existing, False
    job = _build_job(
        spec=spec,
        target=target,
        params=params,
        queue=queue,
        priority=priority,
        submitted_by=submitted_by,
        idempotency_key=idempotency_key,
        max_retries=max_retries,
    )
    if idempotency_key:
        try:
            with transaction.atomic():
                job.save(force_insert=True)
        except IntegrityError:
            # A concurrent submit with the same key won the race.
            existing = _existing_for_idempotency_key(
                idempotency_key, replay_completed=replay_completed
            )
            if existing is None:
                raise
            return existing, False
    else:
        job.save(force_insert=True)
    jobs_send_on_commit(jobs=[job])
    return job, True


@transaction.atomic
def job_submit_batch(
    *,
    items: list[dict[str, Any]],
    job_type: str | None = None,
    queue: str | None = None,
    priority: int | None = None,
    submitted_by: Any = None,
) -> list[ProcessingJob]:
    """Write many queued jobs in one transaction; their messages go out together on commit.

    Each item may hold `job_type`, `target`, `params`, `queue` and
    `priority`; what an item leaves out comes from the keyword arguments.
    Any invalid item rejects the whole batch (ValidationError naming it).
    """
    jobs = []
    for index, item in enumerate(items):
        try:
            jobs.append(
                _build_job(
                    spec=_job_type_or_error(item.get("job_type") or job_type or ""),
                    target=item.get("target"),
                    params=item.get("params"),
                    queue=item.get("queue") or queue,
                    priority=item.get("priority", priority),
                    submitted_by=submitted_by,
                    idempotency_key=None,
                    max_retries=None,
                )
            )
        except ValidationError as exc:
            raise ValidationError({f"jobs[{index}]": exc.messages}) from None
    ProcessingJob.objects.bulk_create(jobs, batch_size=500)
    jobs_send_on_commit(jobs=jobs)
    return jobs


def job_submit_periodic(
    *, job_type: str, skip_if_active: bool = True
) -> ProcessingJob | None:
    """Queue a job of this type for a schedule; None when one is still queued or running.

    With `skip_if_active`, a schedule whose jobs outlast its interval never
    piles them up: the key `periodic:<type>` is unique among active jobs, so
    two beats racing queue one job.
    """
    if not skip_if_active:
        return job_submit(job_type=job_type)
    if selectors.job_active_exists(job_type=job_type):
        logger.info("periodic_job_skipped type=%s reason=still-active", job_type)
        return None
    job = _build_job(
        spec=_job_type_or_error(job_type),
        target=None,
        params=None,
        queue=None,
        priority=None,
        submitted_by=None,
        idempotency_key=f"periodic:{job_type}",
        max_retries=None,
    )
    try:
        with transaction.atomic():
            job.save(force_insert=True)
            jobs_send_on_commit(jobs=[job])
    except IntegrityError:
        logger.info("periodic_job_skipped type=%s reason=concurrent-submit", job_type)
        return None
    return job


def job_run_now(
    *,
    job_type: str,
    target: models.Model | None = None,
    params: dict | None = None,
    submitted_by: Any = None,
) -> ProcessingJob:
    """Write a job and run it in this process at once, through the engine; returns the finished row.

    For operators' synchronous requests: the claim, retries (immediate),
    final-failure hook and outcome are the ones a worker applies. No message
    is sent; if this process dies mid-run, the watchdog finds the job.
    """
    spec = _job_type_or_error(job_type)
    job = _build_job(
        spec=spec,
        target=target,
        params=params,
        queue=None,
        priority=9,
        submitted_by=submitted_by,
        idempotency_key=None,
        max_retries=None,
    )
    job.save(force_insert=True)
    spec.task.apply(
        kwargs={"job_id": str(job.id), "generation": job.dispatch_generation},
        task_id=job.task_id,
    )
    job.refresh_from_db()
    return job
