"""The dashboard's figures: queues, throughput, workers and their jobs, stuck jobs, charts.

Everything is an aggregate query or a bounded list: the dashboard reads a
table of a million jobs every few seconds (see bench/ops.py).
"""

import json
import logging
import time
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Avg
from django.db.models import Count
from django.db.models import DurationField
from django.db.models import ExpressionWrapper
from django.db.models import F
from django.db.models import Func
from django.db.models import Min
from django.db.models import Q
from django.db.models.functions import TruncHour
from django.db.models.functions import TruncMinute
from django.utils import timezone

from jobs import broker
from jobs.models import ProcessingJob
from jobs.selectors.ops.common import OUTCOMES
from jobs.selectors.ops.common import WAITING
from jobs.selectors.ops.common import S
from jobs.selectors.ops.common import human
from jobs.selectors.ops.common import iso
from jobs.selectors.ops.common import seconds
from jobs.selectors.queues import queue_list

logger = logging.getLogger(__name__)


def _presence_records() -> list[dict[str, Any]]:
    """Every worker presence record in Redis, stale ones too (a crashed worker leaves one)."""
    from jobs.worker_control import PRESENCE_KEY

    records = []
    for value in broker.broker_client().hgetall(PRESENCE_KEY).values():
        try:
            record = json.loads(value)
        except (TypeError, ValueError):
            continue
        if isinstance(record, dict) and record.get("name"):
            records.append(record)
    return records


def _queue_activity(now: datetime) -> dict[str, dict[str, Any]]:
    """Per queue: outcomes in the last hour and day, the usual wait, waiting count and oldest."""
    hour_ago, day_ago = now - timedelta(hours=1), now - timedelta(days=1)
    wait = ExpressionWrapper(
        F("started_at") - F("queued_at"), output_field=DurationField()
    )
    outcomes = (
        ProcessingJob.objects.filter(status__in=OUTCOMES, completed_at__gte=day_ago)
        .values("queue")
        .annotate(
            completed_24h=Count("id", filter=Q(status=S.COMPLETED)),
            failed_24h=Count("id", filter=Q(status=S.FAILED)),
            completed_1h=Count(
                "id", filter=Q(status=S.COMPLETED, completed_at__gte=hour_ago)
            ),
            failed_1h=Count(
                "id", filter=Q(status=S.FAILED, completed_at__gte=hour_ago)
            ),
            usual_wait=Avg(wait, filter=Q(completed_at__gte=hour_ago)),
        )
        .order_by()
    )
    waiting = (
        ProcessingJob.objects.filter(status__in=WAITING)
        .values("queue")
        .annotate(waiting=Count("id"), oldest=Min("queued_at"))
        .order_by()
    )
    activity: dict[str, dict[str, Any]] = {}
    for row in outcomes:
        activity.setdefault(row.pop("queue"), {}).update(row)
    for row in waiting:
        activity.setdefault(row.pop("queue"), {}).update(row)
    return activity


def _rate(failed: int, completed: int) -> float | None:
    return round(failed / (failed + completed), 4) if failed + completed else None


def dashboard_queue_list(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each queue as queue_list() shows it, with its oldest waiting age and last hour's and day's outcomes."""
    now = now or timezone.now()
    activity = _queue_activity(now)
    queues = []
    for queue in queue_list():
        row = activity.get(queue["name"], {})
        oldest = row.get("oldest")
        completed_1h, failed_1h = row.get("completed_1h", 0), row.get("failed_1h", 0)
        completed_24h = row.get("completed_24h", 0)
        failed_24h = row.get("failed_24h", 0)
        queues.append(
            {
                **queue,
                "oldest_waiting_s": seconds(now - oldest) if oldest else None,
                "usual_wait_s": seconds(row.get("usual_wait")),
                "completed_1h": completed_1h,
                "failed_1h": failed_1h,
                "completed_24h": completed_24h,
                "failed_24h": failed_24h,
                "per_minute_1h": round((completed_1h + failed_1h) / 60, 2),
                "failure_rate_1h": _rate(failed_1h, completed_1h),
                "failure_rate_24h": _rate(failed_24h, completed_24h),
            }
        )
    return queues


RUNNING_LIST_MAX = 500
# A worker that crashed leaves its presence record behind: it is shown as
# silent for this long, or while a job still names it.
SILENT_WORKER_SHOWN_S = 3600


def _running_jobs() -> list[dict[str, Any]]:
    return list(
        ProcessingJob.objects.filter(status=S.RUNNING)
        .order_by("started_at")
        .values(
            "id",
            "job_type",
            "queue",
            "worker",
            "progress",
            "progress_message",
            "attempts",
            "max_retries",
            "started_at",
            "heartbeat_at",
        )[:RUNNING_LIST_MAX]
    )


def dashboard_worker_list(
    *, now: datetime | None = None, running: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Every worker with a presence record or a running job: queues, pool size, last beat, jobs.

    A worker whose record is older than three presence intervals, or that
    runs jobs without any record, is marked `answering: False`.
    """
    now = now or timezone.now()
    running = _running_jobs() if running is None else running
    try:
        records = _presence_records()
    except Exception:
        logger.exception("worker presence unavailable")
        records = []
    fresh_after = time.time() - 3 * settings.JOBS_WORKER_PRESENCE_INTERVAL_S
    forgotten_before = time.time() - SILENT_WORKER_SHOWN_S
    running_on = {job["worker"] for job in running}
    workers: dict[str, dict[str, Any]] = {}
    for record in records:
        seen_at = record.get("seen_at") or 0
        if seen_at < forgotten_before and record["name"] not in running_on:
            continue  # long gone, and nothing of it left running
        workers[record["name"]] = {
            "name": record["name"],
            "queues": record.get("queues") or [],
            "configured_queues": record.get("configured_queues") or [],
            "concurrency": record.get("concurrency"),
            "prefetch_multiplier": record.get("prefetch_multiplier"),
            "seen_at": datetime.fromtimestamp(seen_at, tz=UTC).isoformat()
            if seen_at
            else None,
            "seen_ago_s": round(time.time() - seen_at, 1) if seen_at else None,
            "answering": seen_at >= fresh_after,
            "has_record": True,
            "jobs": [],
        }
    for job in running:
        name = job["worker"] or "?"
        worker = workers.setdefault(
            name,
            {
                "name": name,
                "queues": [],
                "configured_queues": [],
                "concurrency": None,
                "prefetch_multiplier": None,
                "seen_at": None,
                "seen_ago_s": None,
                # Jobs run in-process (drain, a sync request) have no worker
                # record: their heartbeat tells whether they still run.
                "answering": name.startswith("inline@"),
                "has_record": False,
                "jobs": [],
            },
        )
        worker["jobs"].append(_running_job_summary(job, now))
    return sorted(workers.values(), key=lambda worker: worker["name"])


def _running_job_summary(job: dict[str, Any], now: datetime) -> dict[str, Any]:
    beat = job["heartbeat_at"] or job["started_at"]
    return {
        "id": str(job["id"]),
        "job_type": job["job_type"],
        "queue": job["queue"],
        "progress": job["progress"],
        "progress_message": job["progress_message"],
        "attempt": job["attempts"],
        "max_attempts": job["max_retries"] + 1,
        "started_at": iso(job["started_at"]),
        "running_s": seconds(now - job["started_at"]) if job["started_at"] else None,
        "heartbeat_ago_s": seconds(now - beat) if beat else None,
    }


STUCK_LIST_MAX = 50


def dashboard_stuck_jobs(
    *,
    now: datetime | None = None,
    queues: list[dict[str, Any]],
    workers: list[dict[str, Any]],
    running: list[dict[str, Any]],
) -> dict[str, list[dict[str, Any]]]:
    """Running jobs whose heartbeat stopped (or whose worker stopped answering), and queued
    jobs far past their queue's usual wait (paused queues excepted)."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.JOBS_STALE_HEARTBEAT_S)
    quiet_before = now - timedelta(seconds=2 * settings.JOBS_HEARTBEAT_INTERVAL_S)
    silent = {worker["name"] for worker in workers if not worker["answering"]}
    stuck_running = []
    for job in running:
        beat = job["heartbeat_at"] or job["started_at"]
        if beat is None:
            continue
        if beat < stale_before:
            reason = f"no heartbeat for {human((now - beat).total_seconds())}"
        elif job["worker"] in silent and beat < quiet_before:
            reason = f"worker {job['worker']} stopped answering"
        else:
            continue
        stuck_running.append(
            {
                **_running_job_summary(job, now),
                "worker": job["worker"],
                "reason": reason,
            }
        )
    stuck_waiting = []
    for queue in queues:
        if queue["paused"] or not queue["waiting"]:
            continue
        threshold = max(
            settings.OPS_STUCK_QUEUED_MIN_S,
            settings.OPS_STUCK_QUEUED_FACTOR * (queue.get("usual_wait_s") or 0),
        )
        # One query per queue: each walks the waiting-jobs index of its queue
        # from the oldest, where one query over all queues would walk the
        # whole table by queued_at.
        rows = (
            ProcessingJob.objects.filter(
                status__in=WAITING,
                queue=queue["name"],
                queued_at__lt=now - timedelta(seconds=threshold),
            )
            .order_by("queued_at")
            .values("id", "job_type", "queue", "status", "queued_at", "attempts")[
                :STUCK_LIST_MAX
            ]
        )
        for row in rows:
            waited = now - row["queued_at"]
            stuck_waiting.append(
                {
                    "id": str(row["id"]),
                    "job_type": row["job_type"],
                    "queue": row["queue"],
                    "status": row["status"],
                    "queued_at": iso(row["queued_at"]),
                    "waiting_s": seconds(waited),
                    "reason": f"waiting {human(waited.total_seconds())}; the usual "
                    f"wait of {row['queue']} is under {human(threshold)}",
                }
            )
    stuck_waiting.sort(key=lambda job: job["queued_at"])
    del stuck_waiting[STUCK_LIST_MAX:]
    return {"running": stuck_running, "waiting": stuck_waiting}


def dashboard_get() -> dict[str, Any]:
    """Everything the dashboard refreshes every few seconds: queues, workers and their jobs, stuck jobs."""
    now = timezone.now()
    queues = dashboard_queue_list(now=now)
    running = _running_jobs()
    workers = dashboard_worker_list(now=now, running=running)
    stuck = dashboard_stuck_jobs(
        now=now, queues=queues, workers=workers, running=running
    )
    return {
        "generated_at": now.isoformat(),
        "poll_s": settings.OPS_DASHBOARD_POLL_S,
        "queues": queues,
        "workers": workers,
        "running_total": len(running),
        "stuck": stuck,
    }


def _series(
    *, since: datetime, trunc: type[Func], bucket_s: int, buckets: int
) -> dict[str, Any]:
    rows = (
        ProcessingJob.objects.filter(status__in=OUTCOMES, completed_at__gte=since)
        .annotate(bucket=trunc("completed_at"))
        .values("queue", "status", "bucket")
        .annotate(n=Count("id"))
        .order_by()
    )
    first = since.replace(microsecond=0)
    first -= timedelta(seconds=first.timestamp() % bucket_s)
    starts = [
        first + timedelta(seconds=bucket_s * index) for index in range(buckets + 1)
    ]
    index_of = {start: index for index, start in enumerate(starts)}
    series: dict[str, dict[str, list[int]]] = {}
    for row in rows:
        index = index_of.get(row["bucket"])
        if index is None:
            continue
        counts = series.setdefault(
            row["queue"],
            {"completed": [0] * len(starts), "failed": [0] * len(starts)},
        )
        counts[row["status"]][index] += row["n"]
    return {
        "bucket_s": bucket_s,
        "starts": [start.isoformat() for start in starts],
        "queues": series,
    }


def dashboard_charts_get() -> dict[str, Any]:
    """Completed and failed jobs per queue: per minute over the last hour, per hour over the last day."""
    now = timezone.now()
    return {
        "generated_at": now.isoformat(),
        "hour": _series(
            since=now - timedelta(hours=1), trunc=TruncMinute, bucket_s=60, buckets=60
        ),
        "day": _series(
            since=now - timedelta(days=1), trunc=TruncHour, bucket_s=3600, buckets=24
        ),
    }
