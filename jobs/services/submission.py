"""Submitting, cancelling and retrying jobs."""

import logging
from typing import Any

from celery import current_app
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import models
from django.db import transaction
from django.utils import timezone

from jobs import selectors
from jobs.errors import JobStateConflict
from jobs.history import actor_name
from jobs.history import history_entry
from jobs.job_types import JobType
from jobs.job_types import job_type_get
from jobs.models import ProcessingJob
from jobs.services.control import job_terminate
from jobs.services.dispatch import dispatch_next
from jobs.services.dispatch import dispatch_record
from jobs.services.dispatch import jobs_send_on_commit
from jobs.services.failure import task_results_settle
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


def _existing_for_idempotency_key(key: str) -> ProcessingJob | None:
    """The job a replay of this key refers to: an active or completed one."""
    return (
        ProcessingJob.objects.filter(idempotency_key=key)
        .exclude(
            status__in=[ProcessingJob.Status.FAILED, ProcessingJob.Status.CANCELLED]
        )
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
) -> tuple[ProcessingJob, bool]:
    """job_submit, also telling whether the job is new (False: the key's replay)."""
    spec = _job_type_or_error(job_type)
    if idempotency_key:
        existing = _existing_for_idempotency_key(idempotency_key)
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
            existing = _existing_for_idempotency_key(idempotency_key)
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


def job_cancel(*, job_id: Any, cancelled_by: Any = None) -> ProcessingJob:
    """Cancel an active job: a queued one never starts, a running one is terminated.

    Raises JobStateConflict for a job that already finished.
    """
    with transaction.atomic():
        job = ProcessingJob.objects.select_for_update().get(id=job_id)
        if job.status not in ProcessingJob.ACTIVE_STATUSES:
            raise JobStateConflict(
                f"job {job.id} is {job.status}; only queued, retrying or running jobs can be cancelled"
            )
        was_running = job.status == ProcessingJob.Status.RUNNING
        by = actor_name(cancelled_by)
        job.attempt_log = [
            *job.attempt_log,
            history_entry(
                "cancelled", by=by, previous_status=job.status, attempt=job.attempts
            ),
        ]
        job.status = ProcessingJob.Status.CANCELLED
        job.completed_at = timezone.now()
        job.error_message = f"cancelled by {by}"
        job.save(
            update_fields=["status", "completed_at", "error_message", "attempt_log"]
        )
    if was_running:
        job_terminate(task_id=job.task_id or str(job.id), worker=job.worker)
    task_results_settle(job=job)
    logger.info("job_cancelled job_id=%s was_running=%s by=%s", job.id, was_running, by)
    return job


def job_retry(*, job_id: Any, retried_by: Any = None) -> ProcessingJob:
    """Run a failed or cancelled job again as a new attempt; its history is kept.

    Raises JobStateConflict for a job that is active or completed.
    """
    with transaction.atomic():
        job = ProcessingJob.objects.select_for_update().get(id=job_id)
        if job.status not in (
            ProcessingJob.Status.FAILED,
            ProcessingJob.Status.CANCELLED,
        ):
            raise JobStateConflict(
                f"job {job.id} is {job.status}; only failed or cancelled jobs can be retried"
            )
        generation, task_id = dispatch_next(job=job)
        job.attempt_log = [
            *job.attempt_log,
            history_entry(
                "manual_retry",
                by=retried_by,
                task_id=task_id,
                previous_status=job.status,
                previous_attempts=job.attempts,
                previous_error=job.error_message,
            ),
        ]
        job.status = ProcessingJob.Status.QUEUED
        job.attempts = 0
        job.dispatch_generation = generation
        job.task_id = task_id
        job.progress = 0
        job.progress_message = ""
        job.result = None
        job.error_message = ""
        job.traceback = ""
        job.worker = ""
        job.queued_at = timezone.now()
        job.started_at = None
        job.completed_at = None
        job.heartbeat_at = None
        try:
            with transaction.atomic():
                job.save()
        except IntegrityError:
            raise JobStateConflict(
                f"another active job holds idempotency key {job.idempotency_key!r}"
            ) from None
        dispatch_record(
            job_id=job.id, generation=generation, task_id=task_id, reason="retry"
        )
        jobs_send_on_commit(jobs=[job])
    return job


def task_revoke(*, task_id: str) -> Any:
    """Revoke a plain Celery task (not a job) and terminate it if running.

    Raises JobStateConflict when it already finished.
    """
    task = current_app.AsyncResult(task_id)
    if task.ready():
        raise JobStateConflict(f"task {task_id} already finished ({task.state})")
    task.revoke(terminate=True)
    return task


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


def job_record_revoked(
    *,
    task_id: str,
    job_id: str | None,
    generation: int | None,
    worker: str,
    terminated: bool,
    expired: bool,
) -> ProcessingJob | None:
    """A worker revoked a job's task (Flower, `celery control revoke`): mark the job cancelled.

    Only the send that was revoked counts: a job sent again since (a newer
    generation) is left alone. Returns the job when it was cancelled now.
    """
    if job_id is None:
        job = selectors.job_for_task_id(task_id=task_id)
        if job is None:
            return None
        job_id, generation = str(job.id), job.dispatch_generation
    with transaction.atomic():
        job = (
            ProcessingJob.objects.select_for_update()
            .filter(
                id=job_id,
                dispatch_generation=generation,
                status__in=ProcessingJob.ACTIVE_STATUSES,
            )
            .first()
        )
        if job is None:
            return None
        how = "expired" if expired else ("terminated" if terminated else "revoked")
        job.attempt_log = [
            *job.attempt_log,
            history_entry(
                "revoked",
                by="celery remote control",
                task_id=task_id,
                worker=worker,
                how=how,
                previous_status=job.status,
                attempt=job.attempts,
            ),
        ]
        job.status = ProcessingJob.Status.CANCELLED
        job.completed_at = timezone.now()
        job.error_message = (
            f"task {task_id} {how} through Celery remote control on {worker}"
        )
        job.save(
            update_fields=["status", "completed_at", "error_message", "attempt_log"]
        )
    task_results_settle(job=job)
    logger.warning(
        "job_cancelled job_id=%s task_id=%s reason=celery-revoke how=%s worker=%s",
        job.id,
        task_id,
        how,
        worker,
    )
    return job
