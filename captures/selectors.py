"""Reads of devices, captures and observations; visibility (`user=`) is decided here."""

import functools
from datetime import datetime
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.db.models import Prefetch
from django.db.models import Q
from django.db.models import QuerySet
from django.utils import timezone

from captures.models import Capture
from captures.models import Device
from captures.models import Observation
from jobs import hot_statements
from jobs import selectors as job_selectors
from jobs.models import ProcessingJob

ANALYZE_JOB_TYPE = "captures.analyze"


def _visible(queryset: QuerySet, *, user: Any, owner_path: str) -> QuerySet:
    """All rows for staff (or user=None: internal callers), own rows for other users."""
    if user is None or getattr(user, "is_staff", False):
        return queryset
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    return queryset.filter(**{owner_path: user})


def device_list(*, user: Any = None) -> QuerySet[Device]:
    """Devices the user may see (staff: all; others: their own), with capture counts."""
    devices = (
        Device.objects.select_related("owner")
        .annotate(capture_count=Count("captures"))
        .order_by("device_id")
    )
    return _visible(devices, user=user, owner_path="owner")


def device_get(*, device_id: str, user: Any = None) -> Device:
    """One visible device by its device_id; Device.DoesNotExist otherwise."""
    return device_list(user=user).get(device_id=device_id)


def _observations_prefetch() -> Prefetch:
    return Prefetch(
        "observations", queryset=Observation.objects.order_by("-updated_at")
    )


def capture_list(*, user: Any = None) -> QuerySet[Capture]:
    """Captures the user may see, newest first, with device and observations loaded."""
    captures = Capture.objects.select_related("device").prefetch_related(
        _observations_prefetch()
    )
    return _visible(captures, user=user, owner_path="device__owner")


def capture_get(*, capture_id: str, user: Any = None) -> Capture:
    """One visible capture by its public id; Capture.DoesNotExist otherwise."""
    return capture_list(user=user).get(public_id=capture_id)


def capture_previous(*, capture: Capture) -> Capture | None:
    """The same device's capture received just before this one, if any."""
    return (
        Capture.objects.filter(device_id=capture.device_id)
        .filter(
            Q(received_at__lt=capture.received_at)
            | Q(received_at=capture.received_at, pk__lt=capture.pk)
        )
        .exclude(pk=capture.pk)
        .order_by("-received_at", "-pk")
        .first()
    )


# Ingest's reads: on PostgreSQL prepared statements (jobs.hot_statements),
# through the ORM elsewhere. Each runs on every device request.


@functools.cache
def _device_by_key_sql() -> str:
    quote = hot_statements.connection().ops.quote_name
    columns = ", ".join(quote(field.column) for field in Device._meta.concrete_fields)
    return (
        f"SELECT {columns} FROM {quote(Device._meta.db_table)} "
        "WHERE api_key_hash = %(key_hash)s"
    )


def device_by_key_hash(*, api_key_hash: str) -> Device | None:
    """The device holding this key (by its hash), active or not; None for an unknown key.

    The first statement of an ingest: on PostgreSQL it also stands in for
    the connection's health check (see jobs.hot_statements.run).
    """
    db = hot_statements.connection()
    if not hot_statements.prepares(db):
        return Device.objects.filter(api_key_hash=api_key_hash).first()
    row, _ = hot_statements.run(
        _device_by_key_sql(), {"key_hash": api_key_hash}, fetch=True
    )
    if row is None:
        return None
    attnames = [field.attname for field in Device._meta.concrete_fields]
    return Device.from_db(db.alias, attnames, row)


@functools.cache
def _duplicate_sql(*, by_key: bool) -> str:
    quote = hot_statements.connection().ops.quote_name
    table = quote(Capture._meta.db_table)
    if by_key:
        return (
            f"SELECT id FROM {table} "
            "WHERE device_id = %(device)s AND idempotency_key = %(key)s LIMIT 1"
        )
    return (
        f"SELECT id FROM {table} WHERE device_id = %(device)s "
        "AND sha256 = %(sha256)s AND received_at >= %(since)s "
        "ORDER BY received_at DESC LIMIT 1"
    )


def capture_duplicate_get(
    *, device: Device, sha256: str, idempotency_key: str | None, now: datetime
) -> Capture | None:
    """The capture a replay refers to: same idempotency key, or same bytes within the window."""
    window_start = now - timedelta(seconds=settings.CAPTURES_DEDUP_WINDOW_S)
    db = hot_statements.connection()
    if not hot_statements.prepares(db):
        return _duplicate_by_orm(
            device=device,
            sha256=sha256,
            idempotency_key=idempotency_key,
            window_start=window_start,
        )
    row = None
    if idempotency_key:
        row, _ = hot_statements.run(
            _duplicate_sql(by_key=True),
            {"device": device.pk, "key": idempotency_key},
            fetch=True,
        )
    if row is None:
        row, _ = hot_statements.run(
            _duplicate_sql(by_key=False),
            {"device": device.pk, "sha256": sha256, "since": window_start},
            fetch=True,
        )
    # A replay is the rare case: only then is the whole capture read.
    return None if row is None else Capture.objects.get(pk=row[0])


def _duplicate_by_orm(
    *,
    device: Device,
    sha256: str,
    idempotency_key: str | None,
    window_start: datetime,
) -> Capture | None:
    if idempotency_key:
        by_key = Capture.objects.filter(
            device=device, idempotency_key=idempotency_key
        ).first()
        if by_key is not None:
            return by_key
    return (
        Capture.objects.filter(
            device=device, sha256=sha256, received_at__gte=window_start
        )
        .order_by("-received_at")
        .first()
    )


def capture_counts_by_status() -> dict[str, int]:
    """Capture counts per status, plus "total"."""
    counts = dict.fromkeys(Capture.Status.values, 0)
    for row in Capture.objects.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return {"total": sum(counts.values()), **counts}


def capture_latest_job(*, capture: Capture) -> ProcessingJob | None:
    """The most recent analysis job of this capture."""
    return job_selectors.job_latest_for_target(
        target=capture, job_type=ANALYZE_JOB_TYPE
    )


def capture_list_pending_unqueued() -> QuerySet[Capture]:
    """Pending captures that no active analysis job covers, oldest first."""
    covered = job_selectors.job_active_for_each_target(
        model=Capture, job_type=ANALYZE_JOB_TYPE
    )
    return (
        Capture.objects.filter(status=Capture.Status.PENDING)
        .filter(~covered)
        .order_by("received_at", "pk")
    )


def capture_list_expired(*, now: datetime | None = None) -> QuerySet[Capture]:
    """Captures past their retention: the device's override, else CAPTURES_RETENTION_DAYS."""
    now = now or timezone.now()
    default_cutoff = now - timedelta(days=settings.CAPTURES_RETENTION_DAYS)
    expired = Q(device__retention_days__isnull=True, received_at__lt=default_cutoff)
    overrides = (
        Device.objects.filter(retention_days__isnull=False)
        .values_list("retention_days", flat=True)
        .distinct()
    )
    for days in overrides:
        expired |= Q(
            device__retention_days=days, received_at__lt=now - timedelta(days=days)
        )
    return Capture.objects.filter(expired).order_by("received_at", "pk")


def observation_list(*, user: Any = None) -> QuerySet[Observation]:
    """Observations of the captures the user may see, newest first."""
    observations = Observation.objects.select_related("capture", "capture__device")
    return _visible(observations, user=user, owner_path="capture__device__owner")


def observation_latest(*, capture: Capture) -> Observation | None:
    """The capture's most recently written observation (uses a prefetch when present)."""
    observations = list(capture.observations.all())
    if not observations:
        return None
    return max(observations, key=lambda observation: observation.updated_at)


def waiting_job_count() -> int:
    """Jobs waiting to run (queued or retrying), all queues."""
    return job_selectors.jobs_waiting_count(
        statuses=(ProcessingJob.Status.QUEUED, ProcessingJob.Status.RETRYING)
    )
