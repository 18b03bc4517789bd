"""What happens once the engine decides a job failed for good, whatever decided it."""

import json
import logging
from typing import Any

from celery import states
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django_celery_results.models import TaskResult

from jobs import selectors
from jobs import task_states
from jobs.context import JobFailure
from jobs.job_types import job_type_get
from jobs.models import ProcessingJob

logger = logging.getLogger(__name__)


def _notify(job: ProcessingJob, hook_name: str) -> None:
    try:
        spec = job_type_get(job.job_type)
    except KeyError:
        return
    hook = getattr(spec, hook_name)
    if hook is None:
        return
    target_type = None
    if job.content_type_id:
        content_type = ContentType.objects.get_for_id(job.content_type_id)
        target_type = f"{content_type.app_label}.{content_type.model}"
    failure = JobFailure(
        job_id=str(job.id),
        job_type=job.job_type,
        target_type=target_type,
        target_id=job.object_id,
        params=job.params or {},
        error=job.error_message,
        attempts=job.attempts,
    )
    try:
        with transaction.atomic():
            hook(failure)
    except Exception:  # a hook's bug must not undo the job's outcome
        logger.exception(
            "%s hook failed job_id=%s type=%s", hook_name, job.id, job.job_type
        )


def final_failure_notify(*, job: ProcessingJob) -> None:
    """Call the job type's `on_final_failure` hook once, in the caller's transaction.

    A hook that raises is logged and rolled back to its savepoint: the job
    stays failed either way.
    """
    _notify(job, "on_final_failure")


def cancel_notify(*, job: ProcessingJob) -> None:
    """Call the job type's `on_cancel` hook once, in the caller's transaction."""
    _notify(job, "on_cancel")


def _backend_result(job: ProcessingJob, state: str) -> str:
    if state == states.SUCCESS:
        return json.dumps(job.result)
    module, exc_type = (
        ("celery.exceptions", "TaskRevokedError")
        if state == states.REVOKED
        else ("builtins", "RuntimeError")
    )
    return json.dumps(
        {
            "exc_type": exc_type,
            "exc_message": [job.error_message],
            "exc_module": module,
        }
    )


def task_results_settle(*, job: ProcessingJob) -> int:
    """Make the result backend's unfinished rows of this job's task ids agree with the row.

    A job that reported progress left PROGRESS in django-celery-results; a
    job cancelled, failed by the watchdog or revoked elsewhere never wrote
    its end there. Returns the number of rows corrected.
    """
    if job.status not in ProcessingJob.FINISHED_STATUSES:
        return 0
    state = task_states.job_task_state(job)
    return (
        TaskResult.objects.filter(task_id__in=selectors.job_task_ids(job=job))
        .exclude(status__in=states.READY_STATES)
        .update(
            status=state,
            result=_backend_result(job, state),
            date_done=timezone.now(),
        )
    )


def job_fail_for_good(
    *, job_id: Any, generation: int, from_statuses: tuple[str, ...], error: str
) -> ProcessingJob | None:
    """Mark an active job failed (if it is still in from_statuses at that generation), then notify.

    One conditional update decides, so of two callers racing only one fails
    the job and only one hook call happens. Returns the failed job, or None.
    """
    with transaction.atomic():
        updated = ProcessingJob.objects.filter(
            id=job_id, dispatch_generation=generation, status__in=from_statuses
        ).update(
            status=ProcessingJob.Status.FAILED,
            completed_at=timezone.now(),
            error_message=error,
        )
        if not updated:
            return None
        job = ProcessingJob.objects.get(id=job_id)
        final_failure_notify(job=job)
    task_results_settle(job=job)
    return job
