"""Reads of workers: their presence records in Redis, and what they run."""

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery import current_app
from django.conf import settings

from jobs import broker
from jobs.models import ProcessingJob

logger = logging.getLogger(__name__)

S = ProcessingJob.Status
WAITING_STATUSES = (S.QUEUED, S.RETRYING)


# WORKERS ------------------------------------------------------------------


def worker_presence_list() -> list[dict[str, Any]]:
    """Workers whose presence record is fresh: name, pid, queues consumed, pool size, seen_at.

    Each worker's main process rewrites its record every
    JOBS_WORKER_PRESENCE_INTERVAL_S; one missing for three intervals is gone.
    Raises the Redis client's errors when Redis is unreachable.
    """
    from jobs.worker_control import PRESENCE_KEY

    raw = broker.broker_client().hgetall(PRESENCE_KEY)
    fresh_after = time.time() - 3 * settings.JOBS_WORKER_PRESENCE_INTERVAL_S
    workers = []
    for value in raw.values():
        try:
            record = json.loads(value)
        except (TypeError, ValueError):
            continue
        if record.get("seen_at", 0) >= fresh_after:
            workers.append(record)
    return sorted(workers, key=lambda record: record["name"])


def worker_names_alive() -> set[str]:
    """Workers whose presence record is fresh."""
    return {record["name"] for record in worker_presence_list()}


def queue_consumers() -> dict[str, list[str]]:
    """Per queue, the live workers consuming it now."""
    consumers: dict[str, list[str]] = {}
    for record in worker_presence_list():
        for queue in record.get("queues") or []:
            consumers.setdefault(queue, []).append(record["name"])
    return consumers


def _inspect(destination: list[str]) -> Any:
    return current_app.control.inspect(
        timeout=settings.JOBS_INSPECT_TIMEOUT_S,
        destination=destination,
        limit=len(destination),
    )


def _inspect_tasks(names: list[str]) -> tuple[dict, dict]:
    """Active and reserved tasks per worker, asked of the known workers side by side."""
    if not names:
        return {}, {}
    inspect = _inspect(names)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            active = pool.submit(inspect.active)
            reserved = pool.submit(inspect.reserved)
            return active.result() or {}, reserved.result() or {}
    except Exception:
        logger.exception("worker inspection failed")
        return {}, {}


def worker_list() -> list[dict[str, Any]]:
    """Each live worker: its queues, pool size, last beat, and active and reserved tasks.

    Workers come from their presence records; their tasks from one
    inspection addressed to exactly those workers, which returns as soon as
    each has answered.
    """
    try:
        presence = worker_presence_list()
    except Exception:
        logger.exception("worker presence unavailable")
        return []
    active, reserved = _inspect_tasks([record["name"] for record in presence])
    return [
        {
            "name": record["name"],
            "pid": record.get("pid"),
            "queues": record.get("queues") or [],
            "pool_size": record.get("concurrency"),
            "prefetch_multiplier": record.get("prefetch_multiplier"),
            "seen_at": record.get("seen_at"),
            "active": [_task_summary(task) for task in active.get(record["name"], [])],
            "reserved": [
                _task_summary(task) for task in reserved.get(record["name"], [])
            ],
        }
        for record in presence
    ]


def _task_summary(task: dict[str, Any]) -> dict[str, Any]:
    kwargs = task.get("kwargs")
    return {
        "id": task.get("id"),
        "name": task.get("name"),
        "job_id": kwargs.get("job_id") if isinstance(kwargs, dict) else None,
        "kwargs": kwargs,
        "worker_pid": task.get("worker_pid"),
        "time_start": task.get("time_start"),
    }
