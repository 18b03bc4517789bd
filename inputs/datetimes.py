"""Dates a client sends: a real-world offset and a sane window, or a clear refusal.

PostgreSQL refuses offsets beyond ±15:59 and years past 9999 after
conversion to UTC; Python accepts both. A value refused here never reaches
the database, and never comes back unreadable.
"""

from datetime import UTC
from datetime import datetime
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

MAX_OFFSET = timedelta(hours=14)  # the widest offset any time zone uses
# Filters may ask about any period, but only one PostgreSQL can compare.
FILTER_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
FILTER_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class DateOutOfRange(ValueError):
    """A date or offset the project refuses; the message says which and why."""


def offset_check(value: datetime) -> None:
    """Refuse an offset beyond ±14:00."""
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        hours, remainder = divmod(abs(offset), timedelta(hours=1))
        sign = "-" if offset < timedelta(0) else "+"
        raise DateOutOfRange(
            f"the time-zone offset {sign}{hours:02d}:{remainder // timedelta(minutes=1):02d} "
            "is outside the real-world range -14:00 to +14:00"
        )


def client_datetime_check(value: datetime) -> datetime:
    """An aware datetime a client says something happened at: offset and window checked.

    The window: at most API_DATE_MAX_PAST_DAYS ago, at most
    API_DATE_MAX_FUTURE_S ahead (clock skew). Naive values count as UTC.
    """
    offset_check(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    now = timezone.now()
    earliest = now - timedelta(days=settings.API_DATE_MAX_PAST_DAYS)
    latest = now + timedelta(seconds=settings.API_DATE_MAX_FUTURE_S)
    try:
        in_window = earliest <= value <= latest
    except OverflowError:
        in_window = False
    if not in_window:
        raise DateOutOfRange(
            f"{value.isoformat()} is outside the accepted window: from "
            f"{settings.API_DATE_MAX_PAST_DAYS} days ago to "
            f"{settings.API_DATE_MAX_FUTURE_S} seconds ahead"
        )
    return value


def filter_datetime_check(value: datetime) -> datetime:
    """A datetime a client filters by: offset checked, between 1900 and 2200."""
    offset_check(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    if not FILTER_EARLIEST <= value <= FILTER_LATEST:
        raise DateOutOfRange(
            f"{value.isoformat()} is outside the range filters accept (1900 to 2200)"
        )
    return value
