"""Tasks of the engine itself: the diagnostic job type and the periodic upkeep."""

import logging

from celery import shared_task

from jobs import services
from jobs.diagnostic import DiagnosticParamsSerializer
from jobs.diagnostic import diagnostic_run
from jobs.registry import register_job_type
from jobs.schedules import SUBMIT_PERIODIC_TASK
from jobs.schedules import Schedule
from jobs.schedules import register_schedule

logger = logging.getLogger(__name__)

register_job_type(
    "jobs.diagnostic",
    queue="default",
    priority=5,
    soft_time_limit_s=3700,
    time_limit_s=3760,
    staff_submittable=True,
    params_serializer=DiagnosticParamsSerializer,
)(diagnostic_run)


@shared_task(name="jobs.watchdog", ignore_result=False)
def watchdog() -> dict:
    """Re-send lost messages, recover or fail stuck running jobs."""
    return services.watchdog_run()


@shared_task(name="jobs.cleanup_old_jobs")
def cleanup_old_jobs(older_than_days: int | None = None) -> int:
    """Delete finished jobs past the retention."""
    return services.jobs_delete_finished(older_than_days=older_than_days)


@shared_task(name="jobs.metrics_snapshot")
def metrics_snapshot() -> int:
    """Store a snapshot of counts and queue depths."""
    return services.metrics_snapshot_take().pk


@shared_task(name=SUBMIT_PERIODIC_TASK)
def submit_periodic(job_type: str, skip_if_active: bool = True) -> str | None:
    """Queue a job of a scheduled type (skipped while one is active, unless told otherwise)."""
    job = services.job_submit_periodic(job_type=job_type, skip_if_active=skip_if_active)
    return str(job.id) if job else None


register_schedule(
    Schedule(
        name="jobs: watchdog",
        task="jobs.watchdog",
        every_s=15 * 60,
        description="Re-send queued jobs whose message was lost; recover or fail stuck running jobs.",
    )
)
register_schedule(
    Schedule(
        name="jobs: cleanup old jobs",
        task="jobs.cleanup_old_jobs",
        crontab={"minute": "0", "hour": "2"},
        kwargs={"older_than_days": 30},
        description="Delete completed, failed and cancelled jobs older than 30 days.",
    )
)
# Celery's beat adds this entry under this name itself when results expire;
# declaring it here, with Celery's own schedule, makes it exist after
# `migrate` and keeps it the only cleanup of expired results.
register_schedule(
    Schedule(
        name="celery.backend_cleanup",
        task="celery.backend_cleanup",
        crontab={"minute": "0", "hour": "4"},
        description="Delete Celery task results past CELERY_RESULT_EXPIRES.",
    )
)
register_schedule(
    Schedule(
        name="jobs: metrics snapshot",
        task="jobs.metrics_snapshot",
        every_s=5 * 60,
        description="Store job counts and queue depths.",
    )
)
