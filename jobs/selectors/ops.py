"""Reads of the operator's view: the dashboard, failure groups, a job's story, its target.

Everything here is an aggregate query or a bounded list: the dashboard and
/metrics read a table of a million jobs several times a minute.
"""

import json
import logging
import mimetypes
import re
import time
from collections.abc import Iterable
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import NestedObjects
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Avg
from django.db.models import CharField
from django.db.models import Count
from django.db.models import DurationField
from django.db.models import ExpressionWrapper
from django.db.models import F
from django.db.models import Func
from django.db.models import Max
from django.db.models import Min
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models.functions import Cast
from django.db.models.functions import TruncHour
from django.db.models.functions import TruncMinute
from django.utils import timezone

from jobs import broker
from jobs.job_types import job_type_list
from jobs.models import JobDispatch
from jobs.models import JobProgressStep
from jobs.models import ProcessingJob
from jobs.models import WebhookDelivery
from jobs.models import WebhookEndpoint
from jobs.selectors.queues import queue_list

logger = logging.getLogger(__name__)

S = ProcessingJob.Status
WAITING = (S.QUEUED, S.RETRYING)
OUTCOMES = (S.COMPLETED, S.FAILED)


def _seconds(delta: timedelta | None) -> float | None:
    return round(delta.total_seconds(), 3) if delta is not None else None


def _human(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# ERROR SIGNATURES -----------------------------------------------------------

# (PostgreSQL pattern, Python pattern, replacement), applied in order to the
# first line of an error. Each pattern has a single branch of plain ASCII
# classes, so PostgreSQL's and Python's engines mask the same text.
SIGNATURE_RULES: list[tuple[str, str, str]] = [
    (
        "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "<uuid>",
    ),
    (
        "[a-zA-Z][a-zA-Z0-9+.-]*://[^ '\"]+",
        "[a-zA-Z][a-zA-Z0-9+.-]*://[^ '\"]+",
        "<url>",
    ),
    (
        "[A-Za-z0-9_.~-]*(/[A-Za-z0-9_.~<>-]+)+/?",
        "[A-Za-z0-9_.~-]*(?:/[A-Za-z0-9_.~<>-]+)+/?",
        "<path>",
    ),
    ("0x[0-9a-fA-F]+", "0x[0-9a-fA-F]+", "<hex>"),
    ("[0-9a-fA-F]{16,}", "[0-9a-fA-F]{16,}", "<hex>"),
    ("[0-9]+", "[0-9]+", "<n>"),
]
SIGNATURE_MAX_CHARS = 300
_PY_RULES = [(re.compile(py), replacement) for _, py, replacement in SIGNATURE_RULES]
SQLITE_SIGNATURE_FUNCTION = "mq_error_signature"


def error_signature(message: str | None) -> str:
    """An error's signature: its first line with ids, numbers, paths and URLs masked."""
    text = (message or "").split("\n", 1)[0][:SIGNATURE_MAX_CHARS]
    for pattern, replacement in _PY_RULES:
        text = pattern.sub(replacement, text)
    return text


def error_type(signature: str) -> str:
    """The exception type a signature starts with ("OSError: ..."), or ""."""
    head, sep, _ = signature.partition(": ")
    return head if sep and re.fullmatch(r"[A-Za-z_][\w.]*", head) else ""


class ErrorSignature(Func):
    """error_signature() in SQL: nested regexp_replace on PostgreSQL, a Python function on SQLite."""

    output_field = CharField()

    def __init__(self, expression: Any, **extra: Any) -> None:
        super().__init__(expression, **extra)

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        sql = f"left(split_part({sql}, E'\\n', 1), {SIGNATURE_MAX_CHARS})"
        for pattern, _, replacement in SIGNATURE_RULES:
            sql = f"regexp_replace({sql}, %s, %s, 'g')"
            params = [*params, pattern, replacement]
        return sql, params

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"{SQLITE_SIGNATURE_FUNCTION}({sql})", params


# TARGETS: owners, files, previews -------------------------------------------


@cache
def target_owner_path(model: type[models.Model]) -> str | None:
    """The lookup from a target model to its owning user: "owner", "device__owner", …

    A model may name it (`ops_owner_field = "session__owner"`); otherwise a
    foreign key `owner` to the user model, or one hop through a foreign key
    whose model has one (a capture's device, a document's collection).
    """
    declared = getattr(model, "ops_owner_field", None)
    if declared:
        return declared
    user_model = apps.get_model(settings.AUTH_USER_MODEL)

    def owner_field(candidate: type[models.Model]) -> bool:
        try:
            field = candidate._meta.get_field("owner")
        except Exception:
            return False
        return getattr(field, "related_model", None) is user_model

    if owner_field(model):
        return "owner"
    for field in model._meta.get_fields():
        if (
            field.many_to_one
            and field.concrete
            and field.related_model is not None
            and owner_field(field.related_model)
        ):
            return f"{field.name}__owner"
    return None


def _target_model(content_type_id: int | None) -> type[models.Model] | None:
    if not content_type_id:
        return None
    return ContentType.objects.get_for_id(content_type_id).model_class()


def _pks(model: type[models.Model], object_ids: Iterable[str]) -> list[Any]:
    """Object ids (text, as jobs keep them) as the model's primary keys; malformed ones dropped."""
    pk_field = model._meta.pk
    pks = []
    for object_id in set(object_ids):
        try:
            pks.append(pk_field.to_python(object_id))
        except Exception:
            continue
    return pks


def target_owner_ids(
    *, model: type[models.Model], object_ids: Iterable[str]
) -> dict[str, int | None]:
    """The owning user's id of each target (by its object id); {} for a model without owners."""
    path = target_owner_path(model)
    if path is None:
        return {}
    pks = _pks(model, object_ids)
    owners: dict[str, int | None] = {}
    for start in range(0, len(pks), 1000):
        rows = model._default_manager.filter(pk__in=pks[start : start + 1000])
        for pk, owner_id in rows.values_list("pk", path):
            owners[str(pk)] = owner_id
    return owners


def target_get(*, job: ProcessingJob) -> models.Model | None:
    """The job's target row, or None (no target, or deleted)."""
    model = _target_model(job.content_type_id)
    if model is None:
        return None
    try:
        return model._default_manager.filter(pk=job.object_id).first()
    except (ValueError, TypeError):
        return None


IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
VIDEO_TYPES = ("video/mp4", "video/webm", "video/quicktime", "video/x-m4v")
# Fields tried first, in this order, when a target shows its files.
PREVIEW_FIELD_ORDER = ("thumbnail", "poster", "preview", "image", "original", "file")
RELATED_PREVIEW_ROWS = 3


def file_kind(name: str) -> str:
    """ "image", "video", "pdf" or "file", from the file's name."""
    content_type, _ = mimetypes.guess_type(name)
    if content_type in IMAGE_TYPES:
        return "image"
    if content_type in VIDEO_TYPES:
        return "video"
    if content_type == "application/pdf":
        return "pdf"
    return "file"


def _file_fields(model: type[models.Model]) -> list[models.FileField]:
    fields = [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.FileField)
    ]
    order = {name: index for index, name in enumerate(PREVIEW_FIELD_ORDER)}
    return sorted(fields, key=lambda field: order.get(field.name, len(order)))


def target_files(*, target: models.Model) -> list[dict[str, Any]]:
    """The files a target shows: its own file fields, then those of rows pointing at it.

    Each item: `key` (stable, for the admin's file view), `label`, `name`
    (the storage name), `kind`, and `file` (the FieldFile).
    """
    files = []
    for field in _file_fields(type(target)):
        value = getattr(target, field.name)
        if value:
            files.append(
                {
                    "key": field.name,
                    "label": field.verbose_name,
                    "name": value.name,
                    "kind": file_kind(value.name),
                    "file": value,
                }
            )
    for relation in type(target)._meta.related_objects:
        if not relation.one_to_many or relation.related_model is ProcessingJob:
            continue
        related_fields = _file_fields(relation.related_model)
        if not related_fields:
            continue
        accessor = relation.get_accessor_name()
        rows = getattr(target, accessor).all().order_by("pk")[:RELATED_PREVIEW_ROWS]
        for row in rows:
            for field in related_fields:
                value = getattr(row, field.name)
                if value:
                    files.append(
                        {
                            "key": f"{accessor}:{row.pk}:{field.name}",
                            "label": f"{relation.related_model._meta.verbose_name} "
                            f"{row} · {field.verbose_name}",
                            "name": value.name,
                            "kind": file_kind(value.name),
                            "file": value,
                        }
                    )
    return files


def target_preview_list(*, target: models.Model) -> list[dict[str, Any]]:
    """What the job page shows of its target: the model's own `get_preview_media()`, else its files.

    `get_preview_media()` (a convention for media apps) returns dicts with
    `kind` ("image", "video", "pdf", "link"), `url` (an authenticated route
    of the app), and optionally `label`, `poster`, `boxes` ([x, y, w, h,
    label] in an image of `width` x `height`). Without it, image and video
    files of the target (and of rows pointing at it, e.g. renditions) are
    shown through the admin's file view; a `url` is then filled by the view.
    """
    declared = getattr(target, "get_preview_media", None)
    if callable(declared):
        try:
            return list(declared() or [])
        except Exception:
            logger.exception("get_preview_media failed for %r", target)
            return []
    previews = []
    images = [item for item in target_files(target=target) if item["kind"] == "image"]
    for item in target_files(target=target):
        if item["kind"] in ("image", "video", "pdf"):
            entry = {
                "kind": item["kind"],
                "key": item["key"],
                "label": item["label"],
                "name": item["name"],
            }
            if item["kind"] == "video" and images:
                entry["poster_key"] = images[0]["key"]
            previews.append(entry)
    return previews


def files_to_free(*, targets: list[models.Model]) -> dict[str, Any]:
    """The files deleting these targets (and the rows that go with them) would remove, with sizes.

    Sizes come from each file's storage; a file whose size the storage
    cannot tell (missing, or a remote error) is counted as unknown.
    """
    if not targets:
        return {"files": [], "count": 0, "bytes": 0, "unknown": 0, "rows": {}}
    collector = NestedObjects(using="default")
    collector.collect(targets)
    files, total_bytes, unknown, rows = [], 0, 0, {}
    for model, instances in collector.data.items():
        rows[model._meta.label] = len(instances)
        fields = _file_fields(model)
        if not fields:
            continue
        for instance in instances:
            for field in fields:
                value = getattr(instance, field.name)
                if not value:
                    continue
                try:
                    size = value.storage.size(value.name)
                except Exception:
                    size = None
                if size is None:
                    unknown += 1
                else:
                    total_bytes += size
                files.append(
                    {
                        "model": model._meta.label,
                        "field": field.name,
                        "name": value.name,
                        "bytes": size,
                    }
                )
    return {
        "files": files,
        "count": len(files),
        "bytes": total_bytes,
        "unknown": unknown,
        "rows": rows,
    }


# THE DASHBOARD --------------------------------------------------------------


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
                "oldest_waiting_s": _seconds(now - oldest) if oldest else None,
                "usual_wait_s": _seconds(row.get("usual_wait")),
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
    workers: dict[str, dict[str, Any]] = {}
    for record in records:
        seen_at = record.get("seen_at") or 0
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
        "started_at": _iso(job["started_at"]),
        "running_s": _seconds(now - job["started_at"]) if job["started_at"] else None,
        "heartbeat_ago_s": _seconds(now - beat) if beat else None,
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
            reason = f"no heartbeat for {_human((now - beat).total_seconds())}"
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
    overdue_q = Q()
    thresholds = {}
    for queue in queues:
        if queue["paused"] or not queue["waiting"]:
            continue
        usual = queue.get("usual_wait_s") or 0
        threshold = max(
            settings.OPS_STUCK_QUEUED_MIN_S, settings.OPS_STUCK_QUEUED_FACTOR * usual
        )
        thresholds[queue["name"]] = threshold
        overdue_q |= Q(
            queue=queue["name"], queued_at__lt=now - timedelta(seconds=threshold)
        )
    stuck_waiting = []
    if thresholds:
        rows = (
            ProcessingJob.objects.filter(overdue_q, status__in=WAITING)
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
                    "queued_at": _iso(row["queued_at"]),
                    "waiting_s": _seconds(waited),
                    "reason": f"waiting {_human(waited.total_seconds())}; the usual "
                    f"wait of {row['queue']} is under {_human(thresholds[row['queue']])}",
                }
            )
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


# FAILURE GROUPS -------------------------------------------------------------

# Jobs in a failure group: failed for good, or waiting to retry after an
# error (those can still be cancelled).
FAILURE_STATUSES = (S.FAILED, S.RETRYING)


def _failures(*, since: datetime) -> QuerySet[ProcessingJob]:
    return ProcessingJob.objects.filter(
        Q(status=S.FAILED, completed_at__gte=since) | Q(status=S.RETRYING)
    ).exclude(error_message="")


def failure_group_list(*, since: datetime, limit: int = 100) -> list[dict[str, Any]]:
    """Failed (and retrying) jobs since `since`, grouped by error signature, biggest first.

    Each group: signature, exception type, count, failed and retrying
    counts, first and last seen, and its job types and queues with counts.
    """
    rows = (
        _failures(since=since)
        .annotate(signature=ErrorSignature("error_message"))
        .values("signature", "job_type", "queue")
        .annotate(
            n=Count("id"),
            failed=Count("id", filter=Q(status=S.FAILED)),
            retrying=Count("id", filter=Q(status=S.RETRYING)),
            first_seen=Min("completed_at"),
            last_seen=Max("completed_at"),
            first_queued=Min("queued_at"),
            last_queued=Max("queued_at"),
            sample=Max(Cast("id", CharField())),
        )
        .order_by()
    )
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        group = groups.setdefault(
            row["signature"],
            {
                "signature": row["signature"],
                "error_type": error_type(row["signature"]),
                "count": 0,
                "failed": 0,
                "retrying": 0,
                "first_seen": None,
                "last_seen": None,
                "job_types": {},
                "queues": {},
                "sample_job_id": row["sample"],
            },
        )
        group["count"] += row["n"]
        group["failed"] += row["failed"]
        group["retrying"] += row["retrying"]
        group["job_types"][row["job_type"]] = (
            group["job_types"].get(row["job_type"], 0) + row["n"]
        )
        group["queues"][row["queue"]] = group["queues"].get(row["queue"], 0) + row["n"]
        for moment in (
            row["first_seen"],
            row["last_seen"],
            row["first_queued"],
            row["last_queued"],
        ):
            if moment is None:
                continue
            if group["first_seen"] is None or moment < group["first_seen"]:
                group["first_seen"] = moment
            if group["last_seen"] is None or moment > group["last_seen"]:
                group["last_seen"] = moment
    ordered = sorted(
        groups.values(), key=lambda group: (-group["count"], group["signature"])
    )
    for group in ordered:
        group["job_types"] = sorted(
            group["job_types"].items(), key=lambda item: -item[1]
        )
        group["queues"] = sorted(group["queues"].items(), key=lambda item: -item[1])
    return ordered[:limit]


def failure_group_jobs(
    *, signature: str, since: datetime, as_of: datetime | None = None
) -> QuerySet[ProcessingJob]:
    """The jobs of one failure group, most recent first; with `as_of`, only those already in it then."""
    jobs = (
        _failures(since=since)
        .annotate(signature=ErrorSignature("error_message"))
        .filter(signature=signature)
    )
    if as_of is not None:
        jobs = jobs.filter(
            Q(status=S.FAILED, completed_at__lte=as_of)
            | Q(status=S.RETRYING, queued_at__lte=as_of)
        )
    return jobs.order_by("-completed_at", "-queued_at")


OWNER_BREAKDOWN_MAX_JOBS = 5000
# Labels of the owner breakdown for jobs that have no target, and for
# targets that are gone or have no owner.
NO_TARGET = "no target"
NO_OWNER = "no owner (or target gone)"


def failure_group_owners(
    *, jobs: QuerySet[ProcessingJob], limit: int = OWNER_BREAKDOWN_MAX_JOBS
) -> dict[str, Any]:
    """How a group's jobs spread over target owners (and the hop to them, e.g. devices).

    Reads at most `limit` jobs (the most recent) and, per target model, one
    query for their owners.
    """
    rows = list(jobs.values_list("content_type_id", "object_id")[:limit])
    by_model: dict[int | None, list[str]] = {}
    for content_type_id, object_id in rows:
        by_model.setdefault(content_type_id, []).append(object_id)
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    owners: dict[int | str, int] = {}
    hops: dict[str, dict[str, int]] = {}
    for content_type_id, object_ids in by_model.items():
        model = _target_model(content_type_id)
        if model is None:
            owners[NO_TARGET] = owners.get(NO_TARGET, 0) + len(object_ids)
            continue
        found = target_owner_ids(model=model, object_ids=object_ids)
        for object_id in object_ids:
            owner_id = found.get(str(object_id), NO_OWNER)
            if owner_id is None:
                owner_id = NO_OWNER
            owners[owner_id] = owners.get(owner_id, 0) + 1
        path = target_owner_path(model)
        if path and "__" in path:
            hop = path.split("__", 1)[0]
            counts = hops.setdefault(f"{model._meta.verbose_name} {hop}", {})
            values = list(
                model._default_manager.filter(
                    pk__in=_pks(model, object_ids)
                ).values_list(hop, flat=True)
            )
            names = _names_of(model._meta.get_field(hop).related_model, set(values))
            for value in values:
                label = names.get(value, str(value))
                counts[label] = counts.get(label, 0) + 1
    usernames = dict(
        user_model._default_manager.filter(
            pk__in=[owner for owner in owners if not isinstance(owner, str)]
        ).values_list("pk", user_model.USERNAME_FIELD)
    )
    return {
        "jobs_read": len(rows),
        "owners": sorted(
            (
                (owner if isinstance(owner, str) else usernames.get(owner, "?"), count)
                for owner, count in owners.items()
            ),
            key=lambda item: -item[1],
        ),
        "via": {
            label: sorted(counts.items(), key=lambda item: -item[1])[:20]
            for label, counts in hops.items()
        },
    }


def _names_of(model: type[models.Model], pks: set[Any]) -> dict[Any, str]:
    return {row.pk: str(row) for row in model._default_manager.filter(pk__in=pks)}


def failure_group_targets(
    *, jobs: QuerySet[ProcessingJob], limit: int
) -> list[models.Model]:
    """The target rows of a group's jobs that still exist (at most `limit` jobs read)."""
    by_model: dict[int, list[str]] = {}
    for content_type_id, object_id in jobs.exclude(content_type=None).values_list(
        "content_type_id", "object_id"
    )[:limit]:
        by_model.setdefault(content_type_id, []).append(object_id)
    targets: list[models.Model] = []
    for content_type_id, object_ids in by_model.items():
        model = _target_model(content_type_id)
        if model is None:
            continue
        targets.extend(model._default_manager.filter(pk__in=_pks(model, object_ids)))
    return targets


def failure_group_preview(
    *, signature: str, since: datetime, as_of: datetime, include_files: bool = True
) -> dict[str, Any]:
    """What a bulk action on a group would touch: jobs (by status, type, queue), owners, files and bytes."""
    jobs = failure_group_jobs(signature=signature, since=since, as_of=as_of)
    limit = settings.OPS_BULK_MAX_JOBS
    counts = jobs.aggregate(
        total=Count("id"),
        failed=Count("id", filter=Q(status=S.FAILED)),
        retrying=Count("id", filter=Q(status=S.RETRYING)),
        with_target=Count("id", filter=~Q(content_type=None)),
    )
    by_type = list(
        jobs.values("job_type").annotate(n=Count("id")).order_by("-n", "job_type")
    )
    by_queue = list(
        jobs.values("queue").annotate(n=Count("id")).order_by("-n", "queue")
    )
    sample = jobs.exclude(traceback="").only("id", "traceback", "error_message").first()
    preview = {
        "signature": signature,
        "error_type": error_type(signature),
        "as_of": as_of,
        "since": since,
        "limit": limit,
        **counts,
        "by_type": [(row["job_type"], row["n"]) for row in by_type],
        "by_queue": [(row["queue"], row["n"]) for row in by_queue],
        "owners": failure_group_owners(jobs=jobs),
        "sample": sample or jobs.only("id", "traceback", "error_message").first(),
        "recent": list(
            jobs.only(
                "id",
                "job_type",
                "queue",
                "status",
                "error_message",
                "completed_at",
                "queued_at",
                "attempts",
                "max_retries",
            )[:20]
        ),
    }
    if include_files:
        preview["files"] = files_to_free(
            targets=failure_group_targets(jobs=jobs, limit=limit)
        )
    return preview


# A JOB'S STORY ----------------------------------------------------------------

EVENT_LABELS = {
    "attempt_failed": "attempt failed",
    "cancelled": "cancelled",
    "manual_retry": "retried",
    "purged": "purged",
    "revoked": "revoked through Celery",
    "watchdog_requeue": "re-sent by the watchdog",
    "watchdog_resend": "re-sent by the watchdog (message lost)",
    "bulk_action": "bulk action",
    "operator_rerun": "re-run by an operator",
    "operator_fail": "failed by an operator",
}


# Events after which the row's queued_at is the latest queueing, not the first.
REQUEUE_EVENTS = {"manual_retry", "operator_rerun"}


def _parse_moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def job_attempt_list(*, job: ProcessingJob) -> list[dict[str, Any]]:
    """Each attempt of the job: number, worker, start, end, outcome, error, and the retry delay after it.

    Failed attempts come from the attempt log; the current one from the row.
    """
    attempts = []
    for entry in job.attempt_log or []:
        if not isinstance(entry, dict) or entry.get("event") != "attempt_failed":
            continue
        ended = _parse_moment(entry.get("at"))
        started = _parse_moment(entry.get("started_at"))
        retry_in_s = entry.get("retry_in_s")
        attempts.append(
            {
                "number": entry.get("attempt"),
                "worker": entry.get("worker", ""),
                "started_at": started,
                "ended_at": ended,
                "duration_s": _seconds(ended - started) if ended and started else None,
                "outcome": "failed" if entry.get("final") else "failed, retried",
                "error": entry.get("error", ""),
                "retry_in_s": retry_in_s,
                "retry_at": ended + timedelta(seconds=retry_in_s)
                if ended and retry_in_s is not None
                else None,
            }
        )
    # The current (or last) attempt is on the row unless its failure was logged.
    if job.started_at and not any(
        attempt["started_at"] == job.started_at for attempt in attempts
    ):
        ended = job.completed_at if job.status != S.RUNNING else None
        attempts.append(
            {
                "number": job.attempts,
                "worker": job.worker,
                "started_at": job.started_at,
                "ended_at": ended,
                "duration_s": _seconds(ended - job.started_at) if ended else None,
                "outcome": job.status,
                "error": job.error_message if job.status == S.FAILED else "",
                "retry_in_s": None,
                "retry_at": None,
            }
        )
    return attempts


def job_next_retry_at(*, job: ProcessingJob) -> datetime | None:
    """When a retrying job's next attempt is due (its last failure plus the delay), else None."""
    if job.status != S.RETRYING:
        return None
    for entry in reversed(job.attempt_log or []):
        if isinstance(entry, dict) and entry.get("event") == "attempt_failed":
            ended = _parse_moment(entry.get("at"))
            delay = entry.get("retry_in_s")
            if ended and delay is not None:
                return ended + timedelta(seconds=delay)
            return None
    return None


def _event_detail(entry: dict[str, Any]) -> str:
    skip = {"event", "at", "by"}
    parts = []
    for key, value in entry.items():
        if key in skip or value in (None, ""):
            continue
        parts.append(f"{key.replace('_', ' ')}: {value}")
    return "; ".join(parts)


def job_timeline_get(*, job: ProcessingJob) -> list[dict[str, Any]]:
    """The job's story in time order: queued, attempts, progress steps, retries and their
    delays, cancels and retries by whom, watchdog and bulk actions, resends, admin actions.

    Built from the row, its attempt log, its progress history, its resends
    (JobDispatch) and the admin's LogEntry rows: four queries.
    """
    events: list[dict[str, Any]] = []

    def add(moment, kind, title, detail="", by=""):
        if moment is not None:
            events.append(
                {"at": moment, "kind": kind, "title": title, "detail": detail, "by": by}
            )

    requeued = any(
        isinstance(entry, dict) and entry.get("event") in REQUEUE_EVENTS
        for entry in job.attempt_log or []
    )
    add(
        job.queued_at,
        "queued",
        f"queued {'again ' if requeued else ''}on {job.queue}",
        f"priority {job.priority}",
    )
    for entry in job.attempt_log or []:
        if not isinstance(entry, dict):
            continue
        event = entry.get("event", "?")
        moment = _parse_moment(entry.get("at"))
        if event == "attempt_failed":
            started = _parse_moment(entry.get("started_at"))
            add(
                started,
                "started",
                f"attempt {entry.get('attempt')} started",
                f"on {entry.get('worker') or '?'}",
            )
            retry = entry.get("retry_in_s")
            detail = entry.get("error", "")
            title = f"attempt {entry.get('attempt')} failed"
            if retry is not None:
                title += f"; retry in {retry:.1f} s"
            elif entry.get("final"):
                title += " for good"
            add(moment, "failed", title, detail)
            continue
        add(
            moment,
            event,
            EVENT_LABELS.get(event, event.replace("_", " ")),
            _event_detail(entry),
            entry.get("by", ""),
        )
    for step in JobProgressStep.objects.filter(job=job).order_by("reported_at", "id"):
        add(step.reported_at, "progress", f"{step.percent}%", step.message)
    for dispatch in JobDispatch.objects.filter(job=job).order_by("generation"):
        add(
            dispatch.dispatched_at,
            "dispatch",
            f"sent again ({dispatch.reason.replace('_', ' ')})",
            f"generation {dispatch.generation}, task {dispatch.task_id}",
        )
    logged = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(ProcessingJob),
        object_id=str(job.pk),
    ).select_related("user")
    for entry in logged:
        add(
            entry.action_time,
            "admin",
            "admin action",
            entry.get_change_message(),
            getattr(entry.user, "username", ""),
        )
    if job.started_at:
        add(
            job.started_at,
            "started",
            f"attempt {job.attempts} started",
            f"on {job.worker or '?'}",
        )
    if job.status == S.RUNNING and job.heartbeat_at:
        add(
            job.heartbeat_at,
            "heartbeat",
            f"last heartbeat ({job.progress}%)",
            job.progress_message,
        )
    if job.completed_at and job.status in ProcessingJob.FINISHED_STATUSES:
        title = {
            S.COMPLETED: "completed",
            S.FAILED: "failed for good",
            S.CANCELLED: "cancelled",
        }[job.status]
        add(job.completed_at, job.status, title, job.error_message)
    next_retry = job_next_retry_at(job=job)
    if next_retry:
        add(next_retry, "retry_due", "next attempt due")
    order = {"queued": 0, "dispatch": 1, "started": 2, "progress": 3}
    events.sort(key=lambda event: (event["at"], order.get(event["kind"], 4)))
    # The same moment told twice (a failed attempt's start is also the row's
    # start until the next claim): keep the first.
    unique, seen = [], set()
    for event in events:
        key = (event["at"], event["kind"], event["title"])
        if key not in seen:
            seen.add(key)
            unique.append(event)
    return unique


def job_lineage_get(*, job: ProcessingJob) -> dict[str, Any]:
    """The job's sends (first send and each resend with its task id and reason) and the
    other jobs of the same type on the same target (earlier and later re-runs)."""
    # After a retry the row's queued_at is the latest queueing: the first
    # send's time is then unknown (the first attempt's start bounds it).
    dispatches = list(JobDispatch.objects.filter(job=job).order_by("generation"))
    sends = [
        {
            "generation": 0,
            "task_id": str(job.id),
            "reason": "first send",
            "at": None if dispatches else job.queued_at,
        }
    ]
    for dispatch in dispatches:
        sends.append(
            {
                "generation": dispatch.generation,
                "task_id": dispatch.task_id,
                "reason": dispatch.reason.replace("_", " "),
                "at": dispatch.dispatched_at,
            }
        )
    reruns: list[ProcessingJob] = []
    if job.content_type_id:
        reruns = list(
            ProcessingJob.objects.filter(
                content_type_id=job.content_type_id,
                object_id=job.object_id,
                job_type=job.job_type,
            )
            .exclude(id=job.id)
            .only("id", "status", "queued_at", "completed_at", "attempts", "job_type")
            .order_by("-queued_at")[:20]
        )
    return {"sends": sends, "reruns": reruns}


def job_webhook_delivery_list(*, job: ProcessingJob) -> QuerySet[WebhookDelivery]:
    """Webhook deliveries about this job, newest first."""
    return WebhookDelivery.objects.filter(job=job).select_related("endpoint")[:50]


# WEBHOOKS ---------------------------------------------------------------------


def webhook_endpoint_list(*, owner_ids: Iterable[int] | None = None) -> QuerySet:
    """Active webhook endpoints (of these owners), with their owners loaded."""
    endpoints = WebhookEndpoint.objects.filter(is_active=True).select_related("owner")
    if owner_ids is not None:
        endpoints = endpoints.filter(owner_id__in=list(owner_ids))
    return endpoints


def webhook_owner_ids() -> set[int]:
    """Owners that have at least one active endpoint."""
    return set(
        WebhookEndpoint.objects.filter(is_active=True)
        .values_list("owner_id", flat=True)
        .distinct()
    )


# MISC -------------------------------------------------------------------------


def job_type_names() -> list[str]:
    """Registered job type names (the registry, never a DISTINCT over the jobs table)."""
    return [job_type.name for job_type in job_type_list()]
