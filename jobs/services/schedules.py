"""Writing the default periodic tasks into django-celery-beat's tables."""

import json

from django.db import transaction
from django_celery_beat.models import CrontabSchedule
from django_celery_beat.models import IntervalSchedule
from django_celery_beat.models import PeriodicTask

from jobs.schedules import Schedule
from jobs.schedules import schedule_list


def _schedule_fields(schedule: Schedule) -> dict:
    if schedule.every_s is not None:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=schedule.every_s, period=IntervalSchedule.SECONDS
        )
        return {"interval": interval}
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=schedule.crontab.get("minute", "*"),
        hour=schedule.crontab.get("hour", "*"),
        day_of_week=schedule.crontab.get("day_of_week", "*"),
        day_of_month=schedule.crontab.get("day_of_month", "*"),
        month_of_year=schedule.crontab.get("month_of_year", "*"),
        timezone="UTC",
    )
    return {"crontab": crontab}


@transaction.atomic
def schedules_setup() -> tuple[list[str], list[str]]:
    """Create each declared periodic task that doesn't exist yet; returns (created, kept).

    Idempotent: an existing task is left as the operator edited it.
    """
    created, kept = [], []
    for schedule in schedule_list():
        if PeriodicTask.objects.filter(name=schedule.name).exists():
            kept.append(schedule.name)
            continue
        PeriodicTask.objects.create(
            name=schedule.name,
            task=schedule.celery_task,
            queue=schedule.queue,
            kwargs=json.dumps(schedule.celery_kwargs),
            description=schedule.description,
            **_schedule_fields(schedule),
        )
        created.append(schedule.name)
    return created, kept
