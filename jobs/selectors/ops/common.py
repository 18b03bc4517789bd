"""Shared by the operator's-view reads: statuses, and times as the pages show them."""

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from jobs.models import ProcessingJob

S = ProcessingJob.Status
WAITING = (S.QUEUED, S.RETRYING)
OUTCOMES = (S.COMPLETED, S.FAILED)


def seconds(delta: timedelta | None) -> float | None:
    return round(delta.total_seconds(), 3) if delta is not None else None


def human(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def parse_moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
