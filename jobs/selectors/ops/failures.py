"""Failure groups: failed and retrying jobs grouped by error signature, and the preview
of what a bulk action on a group would touch."""

from datetime import datetime
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import CharField
from django.db.models import Count
from django.db.models import Max
from django.db.models import Min
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models.functions import Cast

from jobs.models import ProcessingJob
from jobs.selectors.ops.common import S
from jobs.selectors.ops.signatures import ErrorSignature
from jobs.selectors.ops.signatures import error_type
from jobs.selectors.ops.targets import files_to_free
from jobs.selectors.ops.targets import target_model_of
from jobs.selectors.ops.targets import target_owner_ids
from jobs.selectors.ops.targets import target_owner_path
from jobs.selectors.ops.targets import target_pks

# Jobs in a failure group: failed for good, or waiting to retry after an
# error (those can still be cancelled).
FAILURE_STATUSES = (S.FAILED, S.RETRYING)


def _failures(*, since: datetime) -> QuerySet[ProcessingJob]:
    return ProcessingJob.objects.filter(
        Q(status=S.FAILED, completed_at__gte=since) | Q(status=S.RETRYING)
    ).exclude(error_message="")


def failure_group_list(*, since: datetime, limit: int = 100) -> list[dict[str, Any]]:
    """Failed (and retrying) jobs since `since`, grouped by error signature, biggest first.

    Each group: signature, exception type, count, failed and retrying
    counts, first and last seen, and its job types and queues with counts.
    """
    rows = (
        _failures(since=since)
        .annotate(signature=ErrorSignature("error_message"))
        .values("signature", "job_type", "queue")
        .annotate(
            n=Count("id"),
            failed=Count("id", filter=Q(status=S.FAILED)),
            retrying=Count("id", filter=Q(status=S.RETRYING)),
            first_seen=Min("completed_at"),
            last_seen=Max("completed_at"),
            first_queued=Min("queued_at"),
            last_queued=Max("queued_at"),
            sample=Max(Cast("id", CharField())),
        )
        .order_by()
    )
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        group = groups.setdefault(
            row["signature"],
            {
                "signature": row["signature"],
                "error_type": error_type(row["signature"]),
                "count": 0,
                "failed": 0,
                "retrying": 0,
                "first_seen": None,
                "last_seen": None,
                "job_types": {},
                "queues": {},
                "sample_job_id": row["sample"],
            },
        )
        group["count"] += row["n"]
        group["failed"] += row["failed"]
        group["retrying"] += row["retrying"]
        group["job_types"][row["job_type"]] = (
            group["job_types"].get(row["job_type"], 0) + row["n"]
        )
        group["queues"][row["queue"]] = group["queues"].get(row["queue"], 0) + row["n"]
        for moment in (
            row["first_seen"],
            row["last_seen"],
            row["first_queued"],
            row["last_queued"],
        ):
            if moment is None:
                continue
            if group["first_seen"] is None or moment < group["first_seen"]:
                group["first_seen"] = moment
            if group["last_seen"] is None or moment > group["last_seen"]:
                group["last_seen"] = moment
    ordered = sorted(
        groups.values(), key=lambda group: (-group["count"], group["signature"])
    )
    for group in ordered:
        group["job_types"] = sorted(
            group["job_types"].items(), key=lambda item: -item[1]
        )
        group["queues"] = sorted(group["queues"].items(), key=lambda item: -item[1])
    return ordered[:limit]


def failure_group_jobs(
    *, signature: str, since: datetime, as_of: datetime | None = None
) -> QuerySet[ProcessingJob]:
    """The jobs of one failure group, most recent first; with `as_of`, only those already in it then."""
    jobs = (
        _failures(since=since)
        .annotate(signature=ErrorSignature("error_message"))
        .filter(signature=signature)
    )
    if as_of is not None:
        jobs = jobs.filter(
            Q(status=S.FAILED, completed_at__lte=as_of)
            | Q(status=S.RETRYING, queued_at__lte=as_of)
        )
    return jobs.order_by("-completed_at", "-queued_at")


OWNER_BREAKDOWN_MAX_JOBS = 5000
# Labels of the owner breakdown for jobs that have no target, and for
# targets that are gone or have no owner.
NO_TARGET = "no target"
NO_OWNER = "no owner (or target gone)"


def failure_group_owners(
    *, jobs: QuerySet[ProcessingJob], limit: int = OWNER_BREAKDOWN_MAX_JOBS
) -> dict[str, Any]:
    """How a group's jobs spread over target owners (and the hop to them, e.g. devices).

    Reads at most `limit` jobs (the most recent) and, per target model, one
    query for their owners.
    """
    rows = list(jobs.values_list("content_type_id", "object_id")[:limit])
    by_model: dict[int | None, list[str]] = {}
    for content_type_id, object_id in rows:
        by_model.setdefault(content_type_id, []).append(object_id)
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    owners: dict[int | str, int] = {}
    hops: dict[str, dict[str, int]] = {}
    for content_type_id, object_ids in by_model.items():
        model = target_model_of(content_type_id)
        if model is None:
            owners[NO_TARGET] = owners.get(NO_TARGET, 0) + len(object_ids)
            continue
        found = target_owner_ids(model=model, object_ids=object_ids)
        for object_id in object_ids:
            owner_id = found.get(str(object_id), NO_OWNER)
            if owner_id is None:
                owner_id = NO_OWNER
            owners[owner_id] = owners.get(owner_id, 0) + 1
        path = target_owner_path(model)
        if path and "__" in path:
            hop = path.split("__", 1)[0]
            counts = hops.setdefault(f"{model._meta.verbose_name} {hop}", {})
            values = list(
                model._default_manager.filter(
                    pk__in=target_pks(model, object_ids)
                ).values_list(hop, flat=True)
            )
            names = _names_of(model._meta.get_field(hop).related_model, set(values))
            for value in values:
                label = names.get(value, str(value))
                counts[label] = counts.get(label, 0) + 1
    usernames = dict(
        user_model._default_manager.filter(
            pk__in=[owner for owner in owners if not isinstance(owner, str)]
        ).values_list("pk", user_model.USERNAME_FIELD)
    )
    return {
        "jobs_read": len(rows),
        "owners": sorted(
            (
                (owner if isinstance(owner, str) else usernames.get(owner, "?"), count)
                for owner, count in owners.items()
            ),
            key=lambda item: -item[1],
        ),
        "via": {
            label: sorted(counts.items(), key=lambda item: -item[1])[:20]
            for label, counts in hops.items()
        },
    }


def _names_of(model: type[models.Model], pks: set[Any]) -> dict[Any, str]:
    return {row.pk: str(row) for row in model._default_manager.filter(pk__in=pks)}


def failure_group_targets(
    *, jobs: QuerySet[ProcessingJob], limit: int
) -> list[models.Model]:
    """The target rows of a group's jobs that still exist (at most `limit` jobs read)."""
    by_model: dict[int, list[str]] = {}
    for content_type_id, object_id in jobs.exclude(content_type=None).values_list(
        "content_type_id", "object_id"
    )[:limit]:
        by_model.setdefault(content_type_id, []).append(object_id)
    targets: list[models.Model] = []
    for content_type_id, object_ids in by_model.items():
        model = target_model_of(content_type_id)
        if model is None:
            continue
        targets.extend(
            model._default_manager.filter(pk__in=target_pks(model, object_ids))
        )
    return targets


def failure_group_preview(
    *, signature: str, since: datetime, as_of: datetime, include_files: bool = True
) -> dict[str, Any]:
    """What a bulk action on a group would touch: jobs (by status, type, queue), owners, files and bytes."""
    jobs = failure_group_jobs(signature=signature, since=since, as_of=as_of)
    limit = settings.OPS_BULK_MAX_JOBS
    counts = jobs.aggregate(
        total=Count("id"),
        failed=Count("id", filter=Q(status=S.FAILED)),
        retrying=Count("id", filter=Q(status=S.RETRYING)),
        with_target=Count("id", filter=~Q(content_type=None)),
    )
    by_type = list(
        jobs.values("job_type").annotate(n=Count("id")).order_by("-n", "job_type")
    )
    by_queue = list(
        jobs.values("queue").annotate(n=Count("id")).order_by("-n", "queue")
    )
    sample = jobs.exclude(traceback="").only("id", "traceback", "error_message").first()
    preview = {
        "signature": signature,
        "error_type": error_type(signature),
        "as_of": as_of,
        "since": since,
        "limit": limit,
        **counts,
        "by_type": [(row["job_type"], row["n"]) for row in by_type],
        "by_queue": [(row["queue"], row["n"]) for row in by_queue],
        "owners": failure_group_owners(jobs=jobs),
        "sample": sample or jobs.only("id", "traceback", "error_message").first(),
        "recent": list(
            jobs.only(
                "id",
                "job_type",
                "queue",
                "status",
                "error_message",
                "completed_at",
                "queued_at",
                "attempts",
                "max_retries",
            )[:20]
        ),
    }
    if include_files:
        preview["files"] = files_to_free(
            targets=failure_group_targets(jobs=jobs, limit=limit)
        )
    return preview
