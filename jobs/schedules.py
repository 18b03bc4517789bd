"""Default periodic tasks: apps declare them here; `migrate` and `setup_schedules` write them.

A schedule either names a plain Celery task, or a job type: then beat runs
`jobs.submit_periodic`, which queues a job of that type, and with
`skip_if_active` (the default) skips the run while one is still queued or
running, so slow runs never pile up.
"""

from dataclasses import dataclass
from dataclasses import field
from typing import Any

SUBMIT_PERIODIC_TASK = "jobs.submit_periodic"


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str = ""
    job_type: str = ""
    skip_if_active: bool = True
    queue: str = "maintenance"
    every_s: int | None = None
    crontab: dict[str, str] | None = None  # minute, hour, day_of_week, ...
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def celery_task(self) -> str:
        return SUBMIT_PERIODIC_TASK if self.job_type else self.task

    @property
    def celery_kwargs(self) -> dict[str, Any]:
        if self.job_type:
            return {"job_type": self.job_type, "skip_if_active": self.skip_if_active}
        return self.kwargs


_SCHEDULES: dict[str, Schedule] = {}


def register_schedule(schedule: Schedule) -> None:
    """Declare a default periodic task (written to the database by migrate/setup_schedules)."""
    if (schedule.every_s is None) == (schedule.crontab is None):
        raise ValueError(
            f"schedule {schedule.name} needs exactly one of every_s or crontab"
        )
    if bool(schedule.task) == bool(schedule.job_type):
        raise ValueError(
            f"schedule {schedule.name} needs exactly one of task or job_type"
        )
    _SCHEDULES[schedule.name] = schedule


def schedule_list() -> list[Schedule]:
    return sorted(_SCHEDULES.values(), key=lambda schedule: schedule.name)
