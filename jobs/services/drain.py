"""Running waiting jobs inline, in this process: for hosts without a worker (cron).

Each job goes through its own Celery task applied eagerly, so the claim, run,
retry and outcome logic is the one workers use. Before it runs, the job gets
a new dispatch generation: its message, still waiting in Redis, is then
superseded, and a worker that receives it later drops it instead of running
the job a second time. Those stale messages are removed when the drain ends.
"""

import base64
import json
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

import redis
from django.db import transaction
from django.db.models import QuerySet

from jobs import broker
from jobs.history import history_entry
from jobs.job_types import job_type_get
from jobs.models import ProcessingJob
from jobs.models import QueueState
from jobs.services.dispatch import dispatch_next
from jobs.services.dispatch import dispatch_record
from jobs.services.queues import queue_validate

logger = logging.getLogger(__name__)

S = ProcessingJob.Status
WAITING_STATUSES = (S.QUEUED, S.RETRYING)


def _waiting(queues: list[str], *, include_paused: bool) -> QuerySet[ProcessingJob]:
    jobs = ProcessingJob.objects.filter(queue__in=queues, status__in=WAITING_STATUSES)
    if include_paused:
        return jobs
    paused = QueueState.objects.filter(is_paused=True).values("name")
    return jobs.exclude(queue__in=paused)


def jobs_waiting_count(*, queues: list[str], include_paused: bool = False) -> int:
    """How many jobs a drain of these queues would run now."""
    return _waiting(queues, include_paused=include_paused).count()


def _take(job: ProcessingJob) -> tuple[int, str] | None:
    """Give the job a new generation and task id, superseding its broker message; None if it moved on."""
    generation, task_id = dispatch_next(job=job)
    entry = history_entry(
        "drained",
        by=f"jobs_drain@{socket.gethostname()}:{os.getpid()}",
        attempt=job.attempts,
        task_id=task_id,
    )
    with transaction.atomic():
        updated = ProcessingJob.objects.filter(
            id=job.id, status=job.status, dispatch_generation=job.dispatch_generation
        ).update(
            dispatch_generation=generation,
            task_id=task_id,
            attempt_log=[*job.attempt_log, entry],
        )
        if not updated:
            return None
        dispatch_record(
            job_id=job.id, generation=generation, task_id=task_id, reason="drain"
        )
    return generation, task_id


def _message_job(raw: bytes) -> tuple[str, int] | None:
    """(job id, generation) of a job message in Redis; None for anything else."""
    try:
        message = json.loads(raw)
        body = message["body"]
        if (message.get("properties") or {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        _args, kwargs, _embed = json.loads(body)
        return str(kwargs["job_id"]), int(kwargs.get("generation", 0))
    except (TypeError, ValueError, KeyError, AttributeError):
        return None


def _superseded_messages_remove(generations: dict[str, dict[str, int]]) -> int:
    """Remove the messages of drained jobs older than the generation they ran with.

    A message sent later (a manual retry meanwhile) carries a newer
    generation and stays.
    """
    client = broker.broker_client()
    removed = 0
    for queue, ran_with in generations.items():
        for key in broker.queue_keys(queue):
            for raw in client.lrange(key, 0, -1):
                found = _message_job(raw)
                if found is None or found[0] not in ran_with:
                    continue
                if found[1] < ran_with[found[0]]:
                    removed += client.lrem(key, 1, raw)
    return removed


def jobs_drain(
    *,
    queues: list[str],
    limit: int | None = None,
    include_paused: bool = False,
    on_job: Callable[[ProcessingJob], None] | None = None,
) -> dict[str, Any]:
    """Run the waiting jobs of these queues inline, most urgent then oldest first, until none is left.

    Paused queues are skipped (also one paused during the drain) unless
    `include_paused`: the operator's pause holds on cron hosts too. A failed
    attempt is retried at once, without the backoff a worker would wait.
    Each job runs at most once per drain. Returns counts by outcome.
    """
    for queue in queues:
        queue_validate(queue=queue)
    summary: dict[str, Any] = {
        "ran": 0,
        "completed": 0,
        "failed": 0,
        "cancelled": 0,
        "other": 0,
        "skipped": 0,
        "messages_removed": 0,
    }
    # Jobs left waiting after their turn (unknown type, or a claim that
    # failed): not picked again, so the drain ends.
    passed_over: set[Any] = set()
    generations: dict[str, dict[str, int]] = {}
    try:
        while limit is None or summary["ran"] < limit:
            job = (
                _waiting(queues, include_paused=include_paused)
                .exclude(id__in=passed_over)
                .order_by("-priority", "queued_at")
                .first()
            )
            if job is None:
                break
            try:
                task = job_type_get(job.job_type).task
            except KeyError:
                logger.warning(
                    "drain_skipped job_id=%s reason=unknown-job-type %s",
                    job.id,
                    job.job_type,
                )
                summary["skipped"] += 1
                passed_over.add(job.id)
                continue
            taken = _take(job)
            if taken is None:
                continue  # cancelled, purged or taken by someone else meanwhile
            generation, task_id = taken
            generations.setdefault(job.queue, {})[str(job.id)] = generation
            task.apply(
                kwargs={"job_id": str(job.id), "generation": generation},
                task_id=task_id,
            )
            job.refresh_from_db()
            if job.status in WAITING_STATUSES:
                passed_over.add(job.id)
            summary["ran"] += 1
            outcome = (
                job.status
                if job.status in ("completed", "failed", "cancelled")
                else "other"
            )
            summary[outcome] += 1
            logger.info("drain_ran job_id=%s status=%s", job.id, job.status)
            if on_job is not None:
                on_job(job)
    finally:
        if generations:
            try:
                summary["messages_removed"] = _superseded_messages_remove(generations)
            except redis.RedisError:
                # Harmless if left: a worker drops a superseded message.
                logger.exception("drain could not remove superseded messages")
    return summary
