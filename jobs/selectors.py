"""Reads of jobs, queues and workers; other apps read the jobs table only through these."""

import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery import current_app
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Avg
from django.db.models import CharField
from django.db.models import Count
from django.db.models import DurationField
from django.db.models import Exists
from django.db.models import ExpressionWrapper
from django.db.models import F
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models.functions import Cast

from jobs import broker
from jobs.job_types import job_type_list
from jobs.models import JobDispatch
from jobs.models import ProcessingJob
from jobs.models import QueueState

logger = logging.getLogger(__name__)

S = ProcessingJob.Status
WAITING_STATUSES = (S.QUEUED, S.RETRYING)

# JOBS ---------------------------------------------------------------------


def job_list(*, filters: dict[str, Any] | None = None) -> QuerySet[ProcessingJob]:
    """Jobs, newest first, with their target type and submitter loaded."""
    jobs = ProcessingJob.objects.select_related("content_type", "submitted_by")
    return jobs.filter(**filters) if filters else jobs


def job_get(*, job_id: Any) -> ProcessingJob:
    """One job; ProcessingJob.DoesNotExist (or ValidationError for a malformed id)."""
    return job_list().get(id=job_id)


def job_list_for_user(*, user: Any) -> QuerySet[ProcessingJob]:
    """Jobs a user may see: all for staff (or user=None, internal callers), else those they submitted."""
    jobs = job_list()
    if user is None or getattr(user, "is_staff", False):
        return jobs
    if not getattr(user, "is_authenticated", False):
        return jobs.none()
    return jobs.filter(submitted_by=user)


def job_for_task_id(*, task_id: str, user: Any = None) -> ProcessingJob | None:
    """The job one of whose sends had this Celery task id, or None (a plain task,
    unknown, or not visible to the user).

    The first send's task id is the job's id; later ones are the job's
    current `task_id` or one of its JobDispatch rows.
    """
    try:
        uuid.UUID(task_id)
    except ValueError:
        return None
    jobs = job_list_for_user(user=user)
    job = jobs.filter(Q(id=task_id) | Q(task_id=task_id)).first()
    if job is not None:
        return job
    dispatch = JobDispatch.objects.filter(task_id=task_id).only("job_id").first()
    return jobs.filter(id=dispatch.job_id).first() if dispatch else None


def job_task_ids(*, job: ProcessingJob) -> list[str]:
    """Every Celery task id the job was sent under, oldest first."""
    later = JobDispatch.objects.filter(job_id=job.id).order_by("generation")
    return [str(job.id), *later.values_list("task_id", flat=True)]


def _target_filter(target: models.Model) -> dict[str, Any]:
    return {
        "content_type": ContentType.objects.get_for_model(target),
        "object_id": str(target.pk),
    }


def job_list_for_target(
    *,
    target: models.Model,
    job_type: str | None = None,
    statuses: tuple[str, ...] | None = None,
) -> QuerySet[ProcessingJob]:
    """A target's jobs (optionally of one type and some statuses), newest first."""
    jobs = job_list(filters=_target_filter(target))
    if job_type is not None:
        jobs = jobs.filter(job_type=job_type)
    if statuses is not None:
        jobs = jobs.filter(status__in=statuses)
    return jobs.order_by("-queued_at")


def job_latest_for_target(
    *,
    target: models.Model,
    job_type: str | None = None,
    statuses: tuple[str, ...] | None = None,
) -> ProcessingJob | None:
    """A target's most recently queued job (optionally of one type and some statuses)."""
    return job_list_for_target(
        target=target, job_type=job_type, statuses=statuses
    ).first()


def job_waiting_for_target(
    *, target: models.Model, job_type: str | None = None
) -> ProcessingJob | None:
    """A target's job that is queued or retrying (not yet running), if any."""
    return job_latest_for_target(
        target=target, job_type=job_type, statuses=WAITING_STATUSES
    )


def job_active_exists(*, job_type: str) -> bool:
    """Whether a job of this type is queued, retrying or running."""
    return ProcessingJob.objects.filter(
        job_type=job_type, status__in=ProcessingJob.ACTIVE_STATUSES
    ).exists()


def job_active_for_each_target(*, model: type[models.Model], job_type: str) -> Exists:
    """An Exists() over a queryset of `model`: its row has an active job of this type.

    For filtering targets in one query, e.g.
    `Capture.objects.filter(~job_active_for_each_target(model=Capture, job_type=...))`.
    """
    return Exists(
        ProcessingJob.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            job_type=job_type,
            status__in=ProcessingJob.ACTIVE_STATUSES,
            object_id=Cast(OuterRef("pk"), output_field=CharField()),
        )
    )


def job_list_failed(*, limit: int = 50) -> QuerySet[ProcessingJob]:
    """The dead-letter list: failed jobs, most recently failed first."""
    return job_list(filters={"status": S.FAILED}).order_by("-completed_at")[:limit]


def task_result_get(*, task_id: str) -> Any:
    """A plain Celery task's AsyncResult; TaskResult.DoesNotExist for an id never stored.

    The backend answers PENDING for any id it never saw, so only a stored
    result proves the task exists.
    """
    from django_celery_results.models import TaskResult

    if not TaskResult.objects.filter(task_id=task_id).exists():
        raise TaskResult.DoesNotExist(f"no job or task with id {task_id!r}")
    return current_app.AsyncResult(task_id)


# COUNTS AND RATES ---------------------------------------------------------


def job_counts_by_status(*, queue: str | None = None) -> dict[str, int]:
    """Jobs per status (every status present, 0 when none), engine-wide or of one queue."""
    jobs = ProcessingJob.objects.all()
    if queue is not None:
        jobs = jobs.filter(queue=queue)
    counts = dict.fromkeys(S.values, 0)
    for row in jobs.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return counts


def jobs_waiting_count(*, statuses: tuple[str, ...] = (S.QUEUED,)) -> int:
    """Jobs in these statuses across all queues (default: queued)."""
    return ProcessingJob.objects.filter(status__in=statuses).count()


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


def job_stats() -> dict[str, Any]:
    """Everything the stats page, API and command show."""
    return {
        "by_status": job_counts_by_status(),
        "by_type": job_counts_by_type(),
        "types": job_type_stats(),
        "queues": queue_list(),
    }
