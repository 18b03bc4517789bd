"""A job in Celery's task-state vocabulary: the one mapping every route uses.

The job row is the record; a Celery-style state is derived from it, never
stored apart from it.
"""

from typing import Any

from celery import states

from jobs.context import progress_percent
from jobs.job_types import job_type_get
from jobs.models import ProcessingJob

S = ProcessingJob.Status
PROGRESS = "PROGRESS"
TASK_STATES = [
    states.PENDING,
    states.STARTED,
    PROGRESS,
    states.RETRY,
    states.SUCCESS,
    states.FAILURE,
    states.REVOKED,
]
_STATE_OF_STATUS = {
    S.QUEUED: states.PENDING,
    S.RETRYING: states.RETRY,
    S.COMPLETED: states.SUCCESS,
    S.FAILED: states.FAILURE,
    S.CANCELLED: states.REVOKED,
}


def job_task_state(job: ProcessingJob) -> str:
    """PENDING, STARTED (running, nothing reported yet), PROGRESS, RETRY, SUCCESS, FAILURE, REVOKED."""
    if job.status == S.RUNNING:
        return PROGRESS if job.progress or job.progress_message else states.STARTED
    return _STATE_OF_STATUS[job.status]


def job_task_progress(job: ProcessingJob) -> dict[str, Any]:
    """Progress as {current, total, percent, message}; a finished success is 100."""
    current = 100 if job.status == S.COMPLETED else job.progress
    return {
        "current": current,
        "total": 100,
        "percent": progress_percent(current, 100),
        "message": job.progress_message,
    }


_STATUS_TEXT = {
    S.QUEUED: "Queued",
    S.RUNNING: "Running",
    S.RETRYING: "Waiting to retry",
    S.COMPLETED: "Completed",
    S.FAILED: "Failed",
    S.CANCELLED: "Cancelled",
}


def job_task_status(job: ProcessingJob) -> dict[str, Any]:
    """The job as a task: state, a status message, progress, result or error, ready.

    The job type's `status_fields` add fields of its own; they never replace
    these.
    """
    progress = job_task_progress(job)
    status = {
        "task_id": job.task_id or str(job.id),
        "job_id": str(job.id),
        "state": job_task_state(job),
        "status": job.progress_message or _STATUS_TEXT[job.status],
        "current": progress["current"],
        "total": progress["total"],
        "progress": progress,
        "result": job.result if job.status == S.COMPLETED else None,
        "error": job.error_message or None,
        "ready": job.status in ProcessingJob.FINISHED_STATUSES,
        "successful": job.status == S.COMPLETED,
    }
    try:
        spec = job_type_get(job.job_type)
    except KeyError:
        return status
    if spec.status_fields is not None:
        extra = spec.status_fields(job) or {}
        status = {**extra, **status}
    return status
