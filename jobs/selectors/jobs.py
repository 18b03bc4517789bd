"""Reads of jobs: lists, lookups by id or task id, a target's jobs, counts and rates."""

import logging
import uuid
from typing import Any

from celery import current_app
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Avg
from django.db.models import CharField
from django.db.models import Count
from django.db.models import DurationField
from django.db.models import Exists
from django.db.models import ExpressionWrapper
from django.db.models import F
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models.functions import Cast

from jobs.models import JobDispatch
from jobs.models import ProcessingJob

logger = logging.getLogger(__name__)

S = ProcessingJob.Status
WAITING_STATUSES = (S.QUEUED, S.RETRYING)


# JOBS ---------------------------------------------------------------------


def job_list(*, filters: dict[str, Any] | None = None) -> QuerySet[ProcessingJob]:
    """Jobs, newest first, with their target type and submitter loaded."""
    jobs = ProcessingJob.objects.select_related("content_type", "submitted_by")
    return jobs.filter(**filters) if filters else jobs


def job_get(*, job_id: Any) -> ProcessingJob:
    """One job; ProcessingJob.DoesNotExist (or ValidationError for a malformed id)."""
    return job_list().get(id=job_id)


def job_list_for_user(*, user: Any) -> QuerySet[ProcessingJob]:
    """Jobs a user may see: all for staff (or user=None, internal callers), else those they submitted."""
    jobs = job_list()
    if user is None or getattr(user, "is_staff", False):
        return jobs
    if not getattr(user, "is_authenticated", False):
        return jobs.none()
    return jobs.filter(submitted_by=user)


def job_for_task_id(*, task_id: str, user: Any = None) -> ProcessingJob | None:
    """The job one of whose sends had this Celery task id, or None (a plain task,
    unknown, or not visible to the user).

    The first send's task id is the job's id; later ones are the job's
    current `task_id` or one of its JobDispatch rows.
    """
    try:
        uuid.UUID(task_id)
    except ValueError:
        return None
    jobs = job_list_for_user(user=user)
    job = jobs.filter(Q(id=task_id) | Q(task_id=task_id)).first()
    if job is not None:
        return job
    dispatch = JobDispatch.objects.filter(task_id=task_id).only("job_id").first()
    return jobs.filter(id=dispatch.job_id).first() if dispatch else None


def job_task_ids(*, job: ProcessingJob) -> list[str]:
    """Every Celery task id the job was sent under, oldest first."""
    later = JobDispatch.objects.filter(job_id=job.id).order_by("generation")
    return [str(job.id), *later.values_list("task_id", flat=True)]


def _target_filter(target: models.Model) -> dict[str, Any]:
    return {
        "content_type": ContentType.objects.get_for_model(target),
        "object_id": str(target.pk),
    }


def job_list_for_target(
    *,
    target: models.Model,
    job_type: str | None = None,
    statuses: tuple[str, ...] | None = None,
) -> QuerySet[ProcessingJob]:
    """A target's jobs (optionally of one type and some statuses), newest first."""
    jobs = job_list(filters=_target_filter(target))
    if job_type is not None:
        jobs = jobs.filter(job_type=job_type)
    if statuses is not None:
        jobs = jobs.filter(status__in=statuses)
    return jobs.order_by("-queued_at")


def job_latest_for_target(
    *,
    target: models.Model,
    job_type: str | None = None,
    statuses: tuple[str, ...] | None = None,
) -> ProcessingJob | None:
    """A target's most recently queued job (optionally of one type and some statuses)."""
    return job_list_for_target(
        target=target, job_type=job_type, statuses=statuses
    ).first()


def job_waiting_for_target(
    *, target: models.Model, job_type: str | None = None
) -> ProcessingJob | None:
    """A target's job that is queued or retrying (not yet running), if any."""
    return job_latest_for_target(
        target=target, job_type=job_type, statuses=WAITING_STATUSES
    )


def job_active_exists(*, job_type: str) -> bool:
    """Whether a job of this type is queued, retrying or running."""
    return ProcessingJob.objects.filter(
        job_type=job_type, status__in=ProcessingJob.ACTIVE_STATUSES
    ).exists()


def job_active_for_each_target(*, model: type[models.Model], job_type: str) -> Exists:
    """An Exists() over a queryset of `model`: its row has an active job of this type.

    For filtering targets in one query, e.g.
    `Capture.objects.filter(~job_active_for_each_target(model=Capture, job_type=...))`.
    """
    return Exists(
        ProcessingJob.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            job_type=job_type,
            status__in=ProcessingJob.ACTIVE_STATUSES,
            object_id=Cast(OuterRef("pk"), output_field=CharField()),
        )
    )


def job_list_failed(
    *,
    limit: int = 50,
    user: Any = None,
    job_types: list[str] | tuple[str, ...] | None = None,
) -> QuerySet[ProcessingJob]:
    """The dead-letter list: failed jobs the user may see (optionally of some
    types), most recently failed first."""
    jobs = job_list_for_user(user=user).filter(status=S.FAILED)
    if job_types is not None:
        jobs = jobs.filter(job_type__in=job_types)
    return jobs.order_by("-completed_at")[:limit]


def task_result_get(*, task_id: str) -> Any:
    """A plain Celery task's AsyncResult; TaskResult.DoesNotExist for an id never stored.

    The backend answers PENDING for any id it never saw, so only a stored
    result proves the task exists.
    """
    from django_celery_results.models import TaskResult

    if not TaskResult.objects.filter(task_id=task_id).exists():
        raise TaskResult.DoesNotExist(f"no job or task with id {task_id!r}")
    return current_app.AsyncResult(task_id)


# COUNTS AND RATES ---------------------------------------------------------


def job_counts_by_status(
    *,
    queue: str | None = None,
    job_type: str | None = None,
    job_types: list[str] | tuple[str, ...] | None = None,
    user: Any = None,
) -> dict[str, int]:
    """Jobs per status (every status present, 0 when none): engine-wide, or of one
    queue, job type(s), or the jobs a user may see (submitted by them)."""
    jobs = ProcessingJob.objects.all() if user is None else job_list_for_user(user=user)
    if queue is not None:
        jobs = jobs.filter(queue=queue)
    if job_type is not None:
        jobs = jobs.filter(job_type=job_type)
    if job_types is not None:
        jobs = jobs.filter(job_type__in=job_types)
    counts = dict.fromkeys(S.values, 0)
    for row in jobs.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return counts


def jobs_waiting_count(*, statuses: tuple[str, ...] = (S.QUEUED,)) -> int:
    """Jobs in these statuses across all queues (default: queued)."""
    return ProcessingJob.objects.filter(status__in=statuses).count()


def job_counts_by_type() -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for row in (
        ProcessingJob.objects.values("job_type", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts.setdefault(row["job_type"], dict.fromkeys(S.values, 0))[
            row["status"]
        ] = row["n"]
    return counts


def job_type_stats() -> list[dict[str, Any]]:
    """Per job type: finished counts, success and failure rates, average run time in seconds."""
    duration = ExpressionWrapper(
        F("completed_at") - F("started_at"), output_field=DurationField()
    )
    rows = (
        ProcessingJob.objects.values("job_type")
        .annotate(
            total=Count("id"),
            completed=Count("id", filter=Q(status=S.COMPLETED)),
            failed=Count("id", filter=Q(status=S.FAILED)),
            cancelled=Count("id", filter=Q(status=S.CANCELLED)),
            avg_duration=Avg(duration, filter=Q(status=S.COMPLETED)),
        )
        .order_by("job_type")
    )
    stats = []
    for row in rows:
        finished = row["completed"] + row["failed"]
        stats.append(
            {
                "job_type": row["job_type"],
                "total": row["total"],
                "completed": row["completed"],
                "failed": row["failed"],
                "cancelled": row["cancelled"],
                "success_rate": round(row["completed"] / finished, 4)
                if finished
                else None,
                "failure_rate": round(row["failed"] / finished, 4)
                if finished
                else None,
                "avg_duration_s": (
                    round(row["avg_duration"].total_seconds(), 3)
                    if row["avg_duration"]
                    else None
                ),
            }
        )
    return stats
