"""Reads of jobs, queues and workers."""

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db.models import Avg
from django.db.models import Count
from django.db.models import DurationField
from django.db.models import ExpressionWrapper
from django.db.models import F
from django.db.models import Q
from django.db.models import QuerySet

from jobs import broker
from jobs.models import ProcessingJob
from jobs.models import QueueState

logger = logging.getLogger(__name__)

S = ProcessingJob.Status


def job_list(*, filters: dict[str, Any] | None = None) -> QuerySet[ProcessingJob]:
    """Jobs, newest first, with their target type and submitter loaded."""
    jobs = ProcessingJob.objects.select_related("content_type", "submitted_by")
    return jobs.filter(**filters) if filters else jobs


def job_get(*, job_id: Any) -> ProcessingJob:
    """One job; ProcessingJob.DoesNotExist (or ValidationError for a malformed id)."""
    return job_list().get(id=job_id)


def job_for_task_id(*, task_id: str) -> ProcessingJob | None:
    """The job whose Celery task id this is, or None (a plain task or unknown)."""
    try:
        uuid.UUID(task_id)
    except ValueError:
        return None
    return job_list(filters={"id": task_id}).first()


def task_result_get(*, task_id: str) -> Any:
    """A plain Celery task's AsyncResult; TaskResult.DoesNotExist for an id never stored.

    The backend answers PENDING for any id it never saw, so only a stored
    result proves the task exists.
    """
    from django_celery_results.models import TaskResult

    from config.celery_app import app

    if not TaskResult.objects.filter(task_id=task_id).exists():
        raise TaskResult.DoesNotExist(f"no job or task with id {task_id!r}")
    return app.AsyncResult(task_id)


def job_list_failed(*, limit: int = 50) -> QuerySet[ProcessingJob]:
    """The dead-letter list: failed jobs, most recently failed first."""
    return job_list(filters={"status": S.FAILED}).order_by("-completed_at")[:limit]


def job_counts_by_status() -> dict[str, int]:
    counts = dict.fromkeys(S.values, 0)
    for row in (
        ProcessingJob.objects.values("status").annotate(n=Count("id")).order_by()
    ):
        counts[row["status"]] = row["n"]
    return counts


def job_counts_by_type() -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for row in (
        ProcessingJob.objects.values("job_type", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts.setdefault(row["job_type"], dict.fromkeys(S.values, 0))[
            row["status"]
        ] = row["n"]
    return counts


def job_type_stats() -> list[dict[str, Any]]:
    """Per job type: finished counts, success and failure rates, average run time in seconds."""
    duration = ExpressionWrapper(
        F("completed_at") - F("started_at"), output_field=DurationField()
    )
    rows = (
        ProcessingJob.objects.values("job_type")
        .annotate(
            total=Count("id"),
            completed=Count("id", filter=Q(status=S.COMPLETED)),
            failed=Count("id", filter=Q(status=S.FAILED)),
            cancelled=Count("id", filter=Q(status=S.CANCELLED)),
            avg_duration=Avg(duration, filter=Q(status=S.COMPLETED)),
        )
        .order_by("job_type")
    )
    stats = []
    for row in rows:
        finished = row["completed"] + row["failed"]
        stats.append(
            {
                "job_type": row["job_type"],
                "total": row["total"],
                "completed": row["completed"],
                "failed": row["failed"],
                "cancelled": row["cancelled"],
                "success_rate": round(row["completed"] / finished, 4)
                if finished
                else None,
                "failure_rate": round(row["failed"] / finished, 4)
                if finished
                else None,
                "avg_duration_s": (
                    round(row["avg_duration"].total_seconds(), 3)
                    if row["avg_duration"]
                    else None
                ),
            }
        )
    return stats


def queue_list() -> list[dict[str, Any]]:
    """Each known queue: waiting messages in Redis (all priorities), paused flag, running jobs."""
    from jobs.services.queues import queue_names

    names = queue_names()
    try:
        depths: dict[str, int | None] = dict(broker.queue_depths(names))
    except Exception:
        logger.exception("queue depth unavailable")
        depths = dict.fromkeys(names)
    paused = set(
        QueueState.objects.filter(is_paused=True).values_list("name", flat=True)
    )
    running = dict(
        ProcessingJob.objects.filter(status=S.RUNNING)
        .values("queue")
        .annotate(n=Count("id"))
        .values_list("queue", "n")
    )
    return [
        {
            "name": name,
            "depth": depths.get(name),
            "paused": name in paused,
            "active": running.get(name, 0),
        }
        for name in names
    ]


def queue_get(*, name: str) -> dict[str, Any]:
    from jobs.services.queues import queue_validate

    queue_validate(queue=name)
    return next(queue for queue in queue_list() if queue["name"] == name)


def _inspect() -> Any:
    from config.celery_app import app

    return app.control.inspect(timeout=settings.JOBS_INSPECT_TIMEOUT_S)


def worker_names_alive() -> set[str]:
    """Workers answering a ping within the inspect timeout."""
    try:
        replies = _inspect().ping() or {}
    except Exception:
        logger.exception("worker ping failed")
        return set()
    return set(replies)


def worker_list() -> list[dict[str, Any]]:
    """Each answering worker: its active and reserved tasks, queues and pool size.

    The four inspections run side by side: each waits the whole inspect
    timeout for replies, so in turn they would take four times as long.
    """
    inspect = _inspect()
    calls = {
        "active": inspect.active,
        "reserved": inspect.reserved,
        "stats": inspect.stats,
        "queues": inspect.active_queues,
    }
    try:
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            futures = {name: pool.submit(call) for name, call in calls.items()}
            replies = {name: future.result() or {} for name, future in futures.items()}
    except Exception:
        logger.exception("worker inspection failed")
        return []
    active, reserved, stats, queues = (
        replies["active"],
        replies["reserved"],
        replies["stats"],
        replies["queues"],
    )
    workers = []
    for name in sorted(set(active) | set(reserved) | set(stats) | set(queues)):
        pool_info = (stats.get(name) or {}).get("pool") or {}
        workers.append(
            {
                "name": name,
                "active": [_task_summary(task) for task in active.get(name, [])],
                "reserved": [_task_summary(task) for task in reserved.get(name, [])],
                "queues": sorted(queue["name"] for queue in queues.get(name, [])),
                "pool_size": pool_info.get("max-concurrency"),
            }
        )
    return workers


def _task_summary(task: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": task.get("id"),
        "name": task.get("name"),
        "kwargs": task.get("kwargs"),
        "worker_pid": task.get("worker_pid"),
        "time_start": task.get("time_start"),
    }


def job_stats() -> dict[str, Any]:
    """Everything the stats page, API and command show."""
    return {
        "by_status": job_counts_by_status(),
        "by_type": job_counts_by_type(),
        "types": job_type_stats(),
        "queues": queue_list(),
    }
