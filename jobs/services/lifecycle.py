"""A job's life after submission: cancel, retry, revoked by a Celery tool."""

import logging
from typing import Any

from celery import current_app
from django.db import IntegrityError
from django.db import transaction
from django.utils import timezone

from jobs import selectors
from jobs.errors import JobStateConflict
from jobs.history import actor_name
from jobs.history import history_entry
from jobs.models import ProcessingJob
from jobs.services.control import job_terminate
from jobs.services.dispatch import dispatch_next
from jobs.services.dispatch import dispatch_record
from jobs.services.dispatch import jobs_send_on_commit
from jobs.services.failure import cancel_notify
from jobs.services.failure import task_results_settle

logger = logging.getLogger(__name__)


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
        cancel_notify(job=job)
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
        cancel_notify(job=job)
    task_results_settle(job=job)
    logger.warning(
        "job_cancelled job_id=%s task_id=%s reason=celery-revoke how=%s worker=%s",
        job.id,
        task_id,
        how,
        worker,
    )
    return job
