"""Default periodic tasks: apps declare them here; `setup_schedules` writes them to the database."""

from dataclasses import dataclass
from dataclasses import field
from typing import Any


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    queue: str = "maintenance"
    every_s: int | None = None
    crontab: dict[str, str] | None = None  # minute, hour, day_of_week, ...
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""


_SCHEDULES: dict[str, Schedule] = {}


def register_schedule(schedule: Schedule) -> None:
    if (schedule.every_s is None) == (schedule.crontab is None):
        raise ValueError(
            f"schedule {schedule.name} needs exactly one of every_s or crontab"
        )
    _SCHEDULES[schedule.name] = schedule


def schedule_list() -> list[Schedule]:
    return sorted(_SCHEDULES.values(), key=lambda schedule: schedule.name)
