"""Sending a job's Celery message: always after the row is committed, each send its own task id."""

import logging
import uuid
from collections.abc import Iterable

from celery import current_app
from django.db import transaction
from django.utils import timezone

from jobs import broker
from jobs.job_types import job_type_get
from jobs.models import JobDispatch
from jobs.models import ProcessingJob

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


def _publish(jobs: list[tuple[str, str, str, str, int, int]]) -> None:
    try:
        # One producer (one pooled connection) for the whole batch.
        with current_app.producer_or_acquire() as producer:
            for job_id, task_id, job_type, queue, priority, generation in jobs:
                try:
                    spec = job_type_get(job_type)
                except KeyError:
                    _fail_unregistered(job_id, job_type)
                    continue
                spec.task.apply_async(
                    kwargs={"job_id": job_id, "generation": generation},
                    task_id=task_id,
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
        (
            str(job.id),
            job.task_id or str(job.id),
            job.job_type,
            job.queue,
            job.priority,
            job.dispatch_generation,
        )
        for job in jobs
    ]
    if snapshot:
        transaction.on_commit(lambda: _publish(snapshot))


def dispatch_next(*, job: ProcessingJob) -> tuple[int, str]:
    """The generation and a fresh task id for sending a job again."""
    return job.dispatch_generation + 1, str(uuid.uuid4())


def dispatch_record(*, job_id: str, generation: int, task_id: str, reason: str) -> None:
    """Remember which job a resend's task id belongs to (after the row took it)."""
    JobDispatch.objects.create(
        task_id=task_id, job_id=job_id, generation=generation, reason=reason
    )
