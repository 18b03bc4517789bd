"""The one place an attempt-log entry is built: what happened to a job, when, by whom."""

from typing import Any

from django.utils import timezone


def actor_name(actor: Any) -> str:
    """A user's username, a plain string as given, or "system"."""
    if isinstance(actor, str):
        return actor or "system"
    return getattr(actor, "username", "") or "system"


def history_entry(event: str, *, by: Any = None, **details: Any) -> dict[str, Any]:
    """One attempt-log entry: the event, its time, its actor and any details."""
    entry: dict[str, Any] = {"event": event, "at": timezone.now().isoformat()}
    if by is not None:
        entry["by"] = actor_name(by)
    entry.update(details)
    return entry
