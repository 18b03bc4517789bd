"""Sending a job's Celery message: always after the row is committed."""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from jobs import broker
from jobs.models import ProcessingJob
from jobs.registry import job_type_get

logger = logging.getLogger(__name__)


def _fail_unregistered(job_id: str, job_type: str) -> None:
    # No worker could run it either: failing it at once beats a watchdog
    # that re-sends it forever.
    ProcessingJob.objects.filter(id=job_id, status=ProcessingJob.Status.QUEUED).update(
        status=ProcessingJob.Status.FAILED,
        completed_at=timezone.now(),
        error_message=f"job type {job_type!r} is not registered in this deployment",
    )
    logger.error(
        "job_failed job_id=%s reason=unregistered-type type=%s", job_id, job_type
    )


def _publish(jobs: list[tuple[str, str, str, int, int]]) -> None:
    from config.celery_app import app

    try:
        with app.producer_or_acquire() as producer:
            for job_id, job_type, queue, priority, generation in jobs:
                try:
                    spec = job_type_get(job_type)
                except KeyError:
                    _fail_unregistered(job_id, job_type)
                    continue
                spec.task.apply_async(
                    kwargs={"job_id": job_id, "generation": generation},
                    task_id=job_id,
                    queue=queue,
                    routing_key=queue,
                    priority=broker.job_priority_to_broker(priority),
                    producer=producer,
                )
    except Exception:
        # The row stays queued: the watchdog re-sends what has no message.
        logger.exception(
            "publish failed for %d job(s); the watchdog will resend", len(jobs)
        )


def jobs_send_on_commit(*, jobs: Iterable[ProcessingJob]) -> None:
    """Send the jobs' messages once the current transaction commits (now in autocommit)."""
    snapshot = [
        (str(job.id), job.job_type, job.queue, job.priority, job.dispatch_generation)
        for job in jobs
    ]
    if snapshot:
        transaction.on_commit(lambda: _publish(snapshot))
