"""Queue operations: pause, resume, purge."""

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jobs import broker
from jobs import selectors
from jobs.history import history_entry
from jobs.models import ProcessingJob
from jobs.models import QueueState
from jobs.services.control import workers_resume_consuming
from jobs.services.control import workers_stop_consuming
from jobs.services.failure import cancel_notify

logger = logging.getLogger(__name__)


def queue_validate(*, queue: str) -> None:
    """Raise ValidationError for a queue name the engine doesn't know."""
    names = selectors.queue_names()
    if queue not in names:
        raise ValidationError(
            {"queue": f"unknown queue {queue!r}; known queues: {', '.join(names)}"}
        )


def queue_pause(*, queue: str, paused_by: Any = None) -> QueueState:
    """Stop every worker starting jobs of a queue, also ones started later; loses nothing."""
    queue_validate(queue=queue)
    state, _ = QueueState.objects.update_or_create(
        name=queue,
        defaults={
            "is_paused": True,
            "paused_at": timezone.now(),
            "paused_by": paused_by if getattr(paused_by, "pk", None) else None,
        },
    )
    workers_stop_consuming(queue=queue)
    logger.info("queue_paused queue=%s", queue)
    return state


def queue_resume(*, queue: str) -> QueueState:
    """Let workers consume a paused queue again; what waited in it runs."""
    queue_validate(queue=queue)
    state, _ = QueueState.objects.update_or_create(
        name=queue, defaults={"is_paused": False, "paused_at": None, "paused_by": None}
    )
    workers_resume_consuming(queue=queue)
    logger.info("queue_resumed queue=%s", queue)
    return state


def _cancel_waiting(filter_q: Q, *, reason: str, purged_by: Any) -> int:
    """Cancel the queued and retrying jobs matching filter_q, each with a log entry."""
    now = timezone.now()
    with transaction.atomic():
        # Locked, so a worker claiming one of them waits and then sees it
        # cancelled instead of running a job the operator purged.
        jobs = list(
            ProcessingJob.objects.select_for_update()
            .filter(filter_q)
            .filter(
                status__in=[ProcessingJob.Status.QUEUED, ProcessingJob.Status.RETRYING]
            )
            .only(
                "id",
                "status",
                "attempt_log",
                "job_type",
                "content_type_id",
                "object_id",
                "params",
                "attempts",
            )
        )
        for job in jobs:
            job.attempt_log = [
                *job.attempt_log,
                history_entry("purged", by=purged_by, previous_status=job.status),
            ]
            job.status = ProcessingJob.Status.CANCELLED
            job.completed_at = now
            job.error_message = reason
        ProcessingJob.objects.bulk_update(
            jobs,
            ["status", "completed_at", "error_message", "attempt_log"],
            batch_size=500,
        )
        for job in jobs:
            cancel_notify(job=job)
    return len(jobs)


def queue_purge(*, queue: str, purged_by: Any = None) -> int:
    """Remove a queue's waiting messages from Redis and cancel its waiting jobs; returns the count.

    Jobs of the queue that a worker has prefetched are cancelled too, so
    their messages are dropped on arrival.
    """
    queue_validate(queue=queue)
    with transaction.atomic():
        removed = broker.purge_queue(queue)
        cancelled = _cancel_waiting(
            Q(task_id__in=removed) | Q(queue=queue),
            reason=f"purged from queue {queue}",
            purged_by=purged_by,
        )
    logger.info(
        "queue_purged queue=%s messages=%d jobs=%d", queue, len(removed), cancelled
    )
    return cancelled


def jobs_purge(*, job_ids: list[Any], purged_by: Any = None) -> int:
    """Remove the waiting messages of these jobs and cancel them; returns how many were cancelled."""
    waiting = ProcessingJob.objects.filter(
        id__in=job_ids,
        status__in=[ProcessingJob.Status.QUEUED, ProcessingJob.Status.RETRYING],
    ).values_list("id", "task_id", "queue")
    by_queue: dict[str, set[str]] = {}
    ids = []
    for job_id, task_id, queue in waiting:
        by_queue.setdefault(queue, set()).add(task_id or str(job_id))
        ids.append(job_id)
    for queue, task_ids in by_queue.items():
        broker.remove_waiting_messages(queue, task_ids)
    return _cancel_waiting(Q(id__in=ids), reason="purged", purged_by=purged_by)
