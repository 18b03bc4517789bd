"""Reads of queues: jobs waiting, messages in Redis, reserved, running, consumers."""

import logging
from typing import Any

from django.conf import settings
from django.db.models import Count

from jobs import broker
from jobs.job_types import job_type_list
from jobs.models import ProcessingJob
from jobs.models import QueueState
from jobs.selectors.jobs import job_counts_by_status
from jobs.selectors.jobs import job_counts_by_type
from jobs.selectors.jobs import job_type_stats
from jobs.selectors.workers import queue_consumers

logger = logging.getLogger(__name__)

S = ProcessingJob.Status
WAITING_STATUSES = (S.QUEUED, S.RETRYING)


# QUEUES -------------------------------------------------------------------


def queue_names() -> list[str]:
    """Every queue the engine knows: the configured ones and the job types' defaults."""
    names = list(settings.JOBS_QUEUES)
    for job_type in job_type_list():
        if job_type.queue not in names:
            names.append(job_type.queue)
    return names


def paused_queue_names() -> set[str]:
    """Queues paused now (the database is the record workers consult)."""
    return set(QueueState.objects.filter(is_paused=True).values_list("name", flat=True))


def _broker_figures(names: list[str]) -> tuple[dict[str, int | None], dict[str, int]]:
    try:
        return dict(broker.queue_depths(names)), broker.unacked_counts_by_queue()
    except Exception:
        logger.exception("queue depth unavailable")
        return dict.fromkeys(names), {}


def queue_list() -> list[dict[str, Any]]:
    """Each known queue: jobs waiting (database), messages in Redis, held by workers, running, consumers.

    `waiting` is the record (queued + retrying rows); `in_broker` the messages
    still in Redis; `reserved` the messages workers took but have not
    started (prefetch, retry countdowns); `awaiting_resend` waiting jobs that
    have no message anywhere (Redis lost it, or `celery purge` dropped it):
    the watchdog sends them again. `unconsumed` flags a queue with waiting
    jobs that no live worker consumes.
    """
    names = queue_names()
    in_broker, unacked = _broker_figures(names)
    waiting = dict(
        ProcessingJob.objects.filter(status__in=WAITING_STATUSES)
        .values("queue")
        .annotate(n=Count("id"))
        .values_list("queue", "n")
    )
    running = dict(
        ProcessingJob.objects.filter(status=S.RUNNING)
        .values("queue")
        .annotate(n=Count("id"))
        .values_list("queue", "n")
    )
    paused = paused_queue_names()
    try:
        consumers: dict[str, list[str]] | None = queue_consumers()
    except Exception:
        logger.exception("worker presence unavailable")
        consumers = None  # unknown: flag no queue as unconsumed
    queues = []
    for name in names:
        depth = in_broker.get(name)
        reserved = max(0, unacked.get(name, 0) - running.get(name, 0))
        waiting_n = waiting.get(name, 0)
        queues.append(
            {
                "name": name,
                "paused": name in paused,
                "waiting": waiting_n,
                "in_broker": depth,
                "reserved": reserved,
                "running": running.get(name, 0),
                "awaiting_resend": (
                    max(0, waiting_n - depth - reserved) if depth is not None else None
                ),
                "consumers": (consumers or {}).get(name, []),
                "unconsumed": bool(
                    consumers is not None
                    and waiting_n
                    and not consumers.get(name)
                    and name not in paused
                ),
            }
        )
    return queues


def queue_get(*, name: str) -> dict[str, Any]:
    """One known queue as queue_list() shows it; ValidationError for an unknown name."""
    from django.core.exceptions import ValidationError

    if name not in queue_names():
        raise ValidationError(
            {
                "queue": f"unknown queue {name!r}; known queues: {', '.join(queue_names())}"
            }
        )
    return next(queue for queue in queue_list() if queue["name"] == name)


def job_stats() -> dict[str, Any]:
    """Everything the stats page, API and command show."""
    return {
        "by_status": job_counts_by_status(),
        "by_type": job_counts_by_type(),
        "types": job_type_stats(),
        "queues": queue_list(),
    }
