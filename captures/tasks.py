"""Job types and periodic tasks of the captures app: thin wrappers around services."""

import logging

from celery import shared_task

from captures import services
from jobs.registry import register_job_type
from jobs.runtime import PERMANENT_ERRORS
from jobs.runtime import JobContext
from jobs.schedules import Schedule
from jobs.schedules import register_schedule

logger = logging.getLogger(__name__)

PERIODIC_JOB_TYPES = ("captures.process_pending", "captures.cleanup")


@register_job_type(
    "captures.analyze",
    queue="medium",
    priority=5,
    soft_time_limit_s=120,
    time_limit_s=180,
)
def analyze(job: JobContext) -> dict:
    """Analyse one capture into its Observation (idempotent: replaces, never duplicates)."""
    capture_id = int(job.target_id)
    try:
        observation = services.capture_analyze(capture_id=capture_id)
    except Exception as exc:
        # Only the last attempt marks the capture failed; earlier ones leave
        # it processing for the retry.
        if isinstance(exc, PERMANENT_ERRORS) or job.attempt > job.max_retries:
            services.capture_mark_failed(
                capture_id=capture_id, error=f"{type(exc).__name__}: {exc}"
            )
        raise
    return {
        "capture_id": observation.capture.public_id,
        "observation_id": observation.pk,
        "labels": observation.labels,
        "people_count": observation.people_count,
        "faces_count": observation.faces_count,
        "codes": [code["value"] for code in observation.codes],
    }


@register_job_type("captures.process_pending", queue="default", priority=5)
def process_pending(job: JobContext) -> dict:
    """Queue an analysis job for every pending capture that has none."""
    return services.captures_process_pending(submitted_by=None)


@register_job_type(
    "captures.cleanup", queue="maintenance", priority=2, soft_time_limit_s=1800
)
def cleanup(job: JobContext) -> dict:
    """Delete captures past retention, their observations and files."""
    return services.captures_cleanup()


@shared_task(name="captures.submit_periodic_job")
def submit_periodic_job(job_type: str) -> str | None:
    """Queue a periodic captures job (skipped while one of its type is active)."""
    if job_type not in PERIODIC_JOB_TYPES:
        logger.error("not a periodic captures job type: %s", job_type)
        return None
    job = services.periodic_job_submit(job_type=job_type)
    return str(job.id) if job else None


register_schedule(
    Schedule(
        name="captures: process pending",
        task="captures.submit_periodic_job",
        every_s=5 * 60,
        kwargs={"job_type": "captures.process_pending"},
        description="Queue analysis for pending captures that have no job (e.g. auto-process off).",
    )
)
register_schedule(
    Schedule(
        name="captures: cleanup",
        task="captures.submit_periodic_job",
        crontab={"minute": "15", "hour": "3"},
        kwargs={"job_type": "captures.cleanup"},
        description="Delete captures past their retention, with observations and files.",
    )
)
