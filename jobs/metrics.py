"""`/metrics` in Prometheus' text format, read from the database and Redis at scrape time.

Every figure is an aggregate query over an index or a Redis read; nothing
loops over job rows. Finished jobs are counted incrementally: each scrape
adds the jobs that finished since the previous one (a watermark in Redis)
to counters and duration histograms kept in Redis, so a scrape reads the
few jobs of the last seconds, never the whole table. Jobs in active
statuses are counted exactly on every scrape; finished ones per type are
recounted over the whole table at most every
OPS_METRICS_FINISHED_COUNTS_MAX_AGE_S.

Access: staff (session or `Authorization: Token <api token>`), or
`Authorization: Bearer <OPS_METRICS_TOKEN>`.
"""

import json
import logging
import time
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Count
from django.db.models import DurationField
from django.db.models import ExpressionWrapper
from django.db.models import F
from django.db.models import Min
from django.db.models import Q
from django.db.models import Sum
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import JsonResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views import View
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client import CollectorRegistry
from prometheus_client import generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.core import HistogramMetricFamily

from jobs import broker
from jobs import selectors
from jobs.metrics_counters import counters_read
from jobs.models import ProcessingJob

logger = logging.getLogger(__name__)

S = ProcessingJob.Status
PREFIX = "mediaqueue"
WATERMARK_KEY = "mq:ops:metrics:watermark"
FINISHED_KEY = "mq:ops:metrics:finished"
DURATION_KEY = "mq:ops:metrics:duration"
TABLE_COUNTS_KEY = "mq:ops:metrics:table-counts"
LOCK_KEY = "mq:ops:metrics:lock"
LOCK_TTL_S = 30


# FINISHED JOBS, INCREMENTALLY ---------------------------------------------------


def _bucket_label(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


def _advance_finished(client) -> None:
    """Add jobs finished since the watermark to the Redis counters; move the watermark.

    One scraper at a time (a short Redis lock); the others read what is
    there. Jobs younger than OPS_METRICS_LAG_S wait for the next scrape, so a
    row committed a moment after its completed_at is still counted.
    """
    if not client.set(LOCK_KEY, "1", nx=True, ex=LOCK_TTL_S):
        return
    try:
        upto = timezone.now() - timedelta(seconds=settings.OPS_METRICS_LAG_S)
        raw = client.get(WATERMARK_KEY)
        floor = upto - timedelta(seconds=settings.OPS_METRICS_MAX_CATCHUP_S)
        since = (
            max(datetime.fromtimestamp(float(raw), tz=UTC), floor)
            if raw
            else upto  # first scrape: counting starts now
        )
        if since < upto:
            _count_finished_between(client, since, upto)
        client.set(WATERMARK_KEY, repr(upto.timestamp()))
    finally:
        client.delete(LOCK_KEY)


def _count_finished_between(client, since: datetime, upto: datetime) -> None:
    buckets = sorted(settings.OPS_METRICS_DURATION_BUCKETS_S)
    duration = ExpressionWrapper(
        F("completed_at") - F("started_at"), output_field=DurationField()
    )
    completed = Q(status=S.COMPLETED, started_at__isnull=False)
    rows = (
        ProcessingJob.objects.filter(
            status__in=ProcessingJob.FINISHED_STATUSES,
            completed_at__gt=since,
            completed_at__lte=upto,
        )
        .annotate(duration=duration)
        .values("job_type", "status")
        .annotate(
            n=Count("id"),
            timed=Count("id", filter=completed),
            duration_sum=Sum("duration", filter=completed),
            **{
                f"le_{index}": Count(
                    "id",
                    filter=completed & Q(duration__lte=timedelta(seconds=bound)),
                )
                for index, bound in enumerate(buckets)
            },
        )
        .order_by()
    )
    with client.pipeline(transaction=False) as pipe:
        for row in rows:
            job_type = row["job_type"]
            pipe.hincrby(FINISHED_KEY, f"{job_type}|{row['status']}", row["n"])
            if not row["timed"]:
                continue
            for index, bound in enumerate(buckets):
                pipe.hincrby(
                    DURATION_KEY,
                    f"{job_type}|{_bucket_label(bound)}",
                    row[f"le_{index}"],
                )
            pipe.hincrby(DURATION_KEY, f"{job_type}|+Inf", row["timed"])
            total = row["duration_sum"] or timedelta(0)
            pipe.hincrbyfloat(DURATION_KEY, f"{job_type}|sum", total.total_seconds())
        pipe.execute()


def _table_counts(client) -> dict[str, dict[str, int]]:
    """Jobs per type and status in the table: active statuses now, finished ones cached."""
    counts: dict[str, dict[str, int]] = {}
    for row in (
        ProcessingJob.objects.filter(status__in=ProcessingJob.ACTIVE_STATUSES)
        .values("job_type", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts.setdefault(row["job_type"], {})[row["status"]] = row["n"]
    cached = client.get(TABLE_COUNTS_KEY)
    finished = json.loads(cached) if cached else None
    max_age_s = settings.OPS_METRICS_FINISHED_COUNTS_MAX_AGE_S
    if finished is None or time.time() - finished.get("at", 0) > max_age_s:
        fresh = {"at": time.time(), "counts": []}
        for row in (
            ProcessingJob.objects.filter(status__in=ProcessingJob.FINISHED_STATUSES)
            .values("job_type", "status")
            .annotate(n=Count("id"))
            .order_by()
        ):
            fresh["counts"].append([row["job_type"], row["status"], row["n"]])
        client.set(TABLE_COUNTS_KEY, json.dumps(fresh), ex=int(max_age_s * 4) + 60)
        finished = fresh
    for job_type, status, n in finished["counts"]:
        counts.setdefault(job_type, {})[status] = n
    return counts


def _upload_models() -> list[type[models.Model]]:
    names = set(settings.OPS_METRICS_UPLOAD_FIELDS)
    found = []
    for model in apps.get_models():
        if model._meta.app_label == "jobs" or model._meta.proxy:
            continue
        if any(
            isinstance(field, models.FileField) and field.name in names
            for field in model._meta.concrete_fields
        ):
            found.append(model)
    return sorted(found, key=lambda model: model._meta.label)


# THE COLLECTOR ------------------------------------------------------------------


class JobsCollector:
    """Yields every metric family of one scrape (a fresh collector per request)."""

    def collect(self):
        started = time.monotonic()
        client = broker.broker_client()
        now = timezone.now()
        yield from self._jobs(client)
        yield from self._queues(now)
        yield from self._counters()
        yield from self._uploads()
        yield from self._workers()
        took = GaugeMetricFamily(
            f"{PREFIX}_metrics_scrape_seconds", "Time this scrape took to gather."
        )
        took.add_metric([], time.monotonic() - started)
        yield took

    def _jobs(self, client):
        try:
            _advance_finished(client)
        except Exception:
            logger.exception("finished-job counters not advanced")
        table = GaugeMetricFamily(
            f"{PREFIX}_jobs",
            "Jobs in the table by type and status (finished statuses recounted "
            "at most every OPS_METRICS_FINISHED_COUNTS_MAX_AGE_S).",
            labels=["job_type", "status"],
        )
        for job_type, by_status in sorted(_table_counts(client).items()):
            for status, n in sorted(by_status.items()):
                table.add_metric([job_type, status], n)
        yield table
        finished = CounterMetricFamily(
            f"{PREFIX}_jobs_finished",
            "Jobs that finished, by type and outcome, counted since the exporter "
            "first ran (or Redis last lost its data).",
            labels=["job_type", "status"],
        )
        for field, value in sorted(client.hgetall(FINISHED_KEY).items()):
            job_type, _, status = field.decode().partition("|")
            finished.add_metric([job_type, status], int(value))
        yield finished
        yield self._durations(client)

    def _durations(self, client):
        histogram = HistogramMetricFamily(
            f"{PREFIX}_job_duration_seconds",
            "Run time of completed jobs (started to completed), by type.",
            labels=["job_type"],
        )
        by_type: dict[str, dict[str, float]] = {}
        for field, value in client.hgetall(DURATION_KEY).items():
            job_type, _, bound = field.decode().partition("|")
            by_type.setdefault(job_type, {})[bound] = float(value)
        bounds = [
            _bucket_label(bound)
            for bound in sorted(settings.OPS_METRICS_DURATION_BUCKETS_S)
        ]
        for job_type, values in sorted(by_type.items()):
            count = values.get("+Inf", 0)
            buckets = [(bound, values.get(bound, 0)) for bound in bounds]
            histogram.add_metric(
                [job_type], [*buckets, ("+Inf", count)], values.get("sum", 0.0)
            )
        return histogram

    def _queues(self, now: datetime):
        families = {
            "waiting": GaugeMetricFamily(
                f"{PREFIX}_queue_waiting_jobs",
                "Jobs queued or retrying in the queue (the database).",
                labels=["queue"],
            ),
            "oldest": GaugeMetricFamily(
                f"{PREFIX}_queue_oldest_waiting_seconds",
                "Age of the queue's oldest waiting job (0 when none waits).",
                labels=["queue"],
            ),
            "running": GaugeMetricFamily(
                f"{PREFIX}_queue_running_jobs",
                "Jobs of the queue running now.",
                labels=["queue"],
            ),
            "in_broker": GaugeMetricFamily(
                f"{PREFIX}_queue_broker_messages",
                "Messages of the queue waiting in Redis.",
                labels=["queue"],
            ),
            "paused": GaugeMetricFamily(
                f"{PREFIX}_queue_paused",
                "1 while the queue is paused.",
                labels=["queue"],
            ),
            "consumers": GaugeMetricFamily(
                f"{PREFIX}_queue_consumers",
                "Live workers consuming the queue.",
                labels=["queue"],
            ),
        }
        oldest = dict(
            ProcessingJob.objects.filter(status__in=selectors.WAITING_STATUSES)
            .values("queue")
            .annotate(oldest=Min("queued_at"))
            .order_by()
            .values_list("queue", "oldest")
        )
        for queue in selectors.queue_list():
            name = queue["name"]
            families["waiting"].add_metric([name], queue["waiting"])
            first = oldest.get(name)
            families["oldest"].add_metric(
                [name], (now - first).total_seconds() if first else 0
            )
            families["running"].add_metric([name], queue["running"])
            if queue["in_broker"] is not None:
                families["in_broker"].add_metric([name], queue["in_broker"])
            families["paused"].add_metric([name], 1 if queue["paused"] else 0)
            families["consumers"].add_metric([name], len(queue["consumers"]))
        yield from families.values()

    def _counters(self):
        described = {
            "job_retries": (
                "job_retries",
                "Automatic retries of failed attempts, by job type.",
                ["job_type"],
            ),
            "job_resends": (
                "job_resends",
                "Jobs sent again under a new task id, by reason (retry by an "
                "operator, watchdog requeue or resend, drain).",
                ["reason"],
            ),
            "watchdog_runs": ("watchdog_runs", "Watchdog runs that finished.", []),
            "watchdog_actions": (
                "watchdog_actions",
                "What the watchdog did: jobs re-queued, failed, re-sent; bindings "
                "repaired.",
                ["action"],
            ),
            "ratelimit_refusals": (
                "ratelimit_refusals",
                "Requests refused by a rate limit (429), by scope.",
                ["scope"],
            ),
        }
        try:
            counters = counters_read()
        except Exception:
            logger.exception("metrics counters unavailable")
            counters = {}
        for key, (name, help_text, labels) in described.items():
            family = CounterMetricFamily(f"{PREFIX}_{name}", help_text, labels=labels)
            for label_values, value in counters.get(key, []):
                family.add_metric(
                    [label_values.get(label, "") for label in labels], value
                )
            yield family

    def _uploads(self):
        family = GaugeMetricFamily(
            f"{PREFIX}_uploads",
            "Stored uploads by model (ingested captures, photos, videos, documents, "
            "receipts...): rows of models holding an uploaded file.",
            labels=["model"],
        )
        for model in _upload_models():
            family.add_metric([model._meta.label_lower], model._base_manager.count())
        yield family

    def _workers(self):
        family = GaugeMetricFamily(
            f"{PREFIX}_workers_alive", "Workers whose presence record is fresh."
        )
        try:
            family.add_metric([], len(selectors.worker_presence_list()))
        except Exception:
            logger.exception("worker presence unavailable")
        yield family


# THE VIEW -----------------------------------------------------------------------


def _denied(status: int, code: str, detail: str) -> JsonResponse:
    response = JsonResponse({"error": code, "detail": detail}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


def metrics_access(request: HttpRequest) -> tuple[bool, int, str]:
    """(allowed, status when not, why): the metrics token, a staff API token or a staff session."""
    scheme, _, credential = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    credential = credential.strip()
    token = settings.OPS_METRICS_TOKEN
    if scheme.lower() == "bearer":
        if token and credential and constant_time_compare(credential, token):
            return True, 200, ""
        return False, 401, "the metrics token is not valid"
    if scheme.lower() == "token":
        from rest_framework.authtoken.models import Token

        found = Token.objects.select_related("user").filter(key=credential).first()
        if found is None or not found.user.is_active:
            return False, 401, "the API token is not valid"
        if not found.user.is_staff:
            return False, 403, "metrics are for staff"
        return True, 200, ""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        if user.is_active and user.is_staff:
            return True, 200, ""
        return False, 403, "metrics are for staff"
    return False, 401, "send the metrics token or a staff API token"


class MetricsView(View):
    """Prometheus text format; see the module docstring for access."""

    http_method_names = ["get", "head"]

    def get(self, request: HttpRequest) -> HttpResponse:
        allowed, status, detail = metrics_access(request)
        if not allowed:
            return _denied(
                status,
                "not_authenticated" if status == 401 else "permission_denied",
                detail,
            )
        registry = CollectorRegistry(auto_describe=False)
        registry.register(JobsCollector())
        return HttpResponse(
            generate_latest(registry), content_type=CONTENT_TYPE_PLAIN_0_0_4
        )
