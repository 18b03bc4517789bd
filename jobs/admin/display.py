"""Helpers shared by the job engine's admin pages: badges, JSON, filters."""

import json
from datetime import UTC
from datetime import datetime
from typing import Any

from django.contrib import admin
from django.utils.html import format_html

from jobs import selectors
from jobs.job_types import job_type_list
from jobs.models import ProcessingJob

S = ProcessingJob.Status

STATUS_COLOURS = {
    S.QUEUED: "#6c757d",
    S.RUNNING: "#0d6efd",
    S.RETRYING: "#fd7e14",
    S.COMPLETED: "#198754",
    S.FAILED: "#dc3545",
    S.CANCELLED: "#343a40",
}
# The confirmation page names this many jobs; the rest are counted.
CONFIRMATION_LIST_MAX = 100
# A result message names this many skipped jobs; the rest are counted.
SKIPPED_LIST_MAX = 10


def pretty_json(value: Any) -> str:
    if value is None:
        return "—"
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text)


def moment_display(value: Any) -> str:
    """A time to the second, in UTC ("2026-05-01 14:03:07"); "—" for none."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def seconds_display(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def status_badge_html(status: str, label: str) -> str:
    return format_html(
        '<span style="background: {}; color: #fff; padding: 2px 8px; '
        'border-radius: 10px; font-size: 11px; white-space: nowrap">{}</span>',
        STATUS_COLOURS.get(status, "#6c757d"),
        label,
    )


class JobTypeFilter(admin.SimpleListFilter):
    """Job types from the registry: no DISTINCT over the whole jobs table."""

    title = "job type"
    parameter_name = "job_type"

    def lookups(self, request, model_admin):
        return [(job_type.name, job_type.name) for job_type in job_type_list()]

    def queryset(self, request, queryset):
        return queryset.filter(job_type=self.value()) if self.value() else queryset


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [(name, name) for name in selectors.queue_names()]

    def queryset(self, request, queryset):
        return queryset.filter(queue=self.value()) if self.value() else queryset


class PriorityFilter(admin.SimpleListFilter):
    title = "priority"
    parameter_name = "priority"

    def lookups(self, request, model_admin):
        return [(str(priority), str(priority)) for priority in range(9, -1, -1)]

    def queryset(self, request, queryset):
        if self.value() in {str(priority) for priority in range(10)}:
            return queryset.filter(priority=int(self.value()))
        return queryset


def skipped_message(verb: str, skipped: list[tuple[Any, str]]) -> str:
    named = "; ".join(
        f"{job_id}: {reason}" for job_id, reason in skipped[:SKIPPED_LIST_MAX]
    )
    more = len(skipped) - SKIPPED_LIST_MAX
    tail = f"; and {more} more" if more > 0 else ""
    return f"Skipped {len(skipped)} job(s) that could not be {verb}: {named}{tail}"
