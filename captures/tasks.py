"""Job types and schedules of the captures app: thin wrappers around services."""

from captures import services
from jobs.context import JobContext
from jobs.context import JobFailure
from jobs.registry import register_job_type
from jobs.schedules import Schedule
from jobs.schedules import register_schedule


def _mark_capture_failed(failure: JobFailure) -> None:
    services.capture_mark_failed(capture_id=int(failure.target_id), error=failure.error)


@register_job_type(
    services.ANALYZE_JOB_TYPE,
    queue="medium",
    priority=5,
    soft_time_limit_s=120,
    time_limit_s=180,
    on_final_failure=_mark_capture_failed,
)
def analyze(job: JobContext) -> dict:
    """Analyse one capture into its Observation (idempotent: replaces, never duplicates)."""
    return services.capture_analyze_result(capture_id=int(job.target_id))


@register_job_type(services.PROCESS_PENDING_JOB_TYPE, queue="default", priority=5)
def process_pending(job: JobContext) -> dict:
    """Queue an analysis job for every pending capture that has none."""
    return services.captures_process_pending(submitted_by=None)


@register_job_type(
    services.CLEANUP_JOB_TYPE, queue="maintenance", priority=2, soft_time_limit_s=1800
)
def cleanup(job: JobContext) -> dict:
    """Delete captures past retention, their observations and files."""
    return services.captures_cleanup()


register_schedule(
    Schedule(
        name="captures: process pending",
        job_type=services.PROCESS_PENDING_JOB_TYPE,
        every_s=5 * 60,
        description="Queue analysis for pending captures that have no job (e.g. auto-process off).",
    )
)
register_schedule(
    Schedule(
        name="captures: cleanup",
        job_type=services.CLEANUP_JOB_TYPE,
        crontab={"minute": "15", "hour": "3"},
        description="Delete captures past their retention, with observations and files.",
    )
)
