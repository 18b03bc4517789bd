"""Operators' bulk actions: a failure group retried, cancelled or purged; stuck jobs re-run or failed.

Each action goes job by job through the engine's own services (retry,
cancel, fail for good), touches at most OPS_BULK_MAX_JOBS jobs (run it again
for more), and is recorded twice: an entry in each job's attempt log (who,
when, what, how many) and an admin LogEntry per job (its History page).
"""

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.admin.models import CHANGE
from django.contrib.admin.models import LogEntry
from django.db import models
from django.db import transaction

from jobs.errors import JobStateConflict
from jobs.history import actor_name
from jobs.history import history_entry
from jobs.models import ProcessingJob
from jobs.selectors import ops as ops_selectors
from jobs.services.control import job_terminate
from jobs.services.failure import job_fail_for_good
from jobs.services.lifecycle import job_cancel
from jobs.services.lifecycle import job_retry

logger = logging.getLogger(__name__)

S = ProcessingJob.Status


@dataclass
class BulkOutcome:
    """What a bulk action did: the jobs it acted on, those it skipped and why, and extras."""

    action: str
    done: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def bulk_action_record(
    *, job_ids: list[Any], action: str, by: Any, summary: str, **details: Any
) -> None:
    """Append one `bulk_action` entry to each job's attempt log and log an admin LogEntry per job."""
    if not job_ids:
        return
    entry = history_entry(
        "bulk_action", by=by, action=action, count=len(job_ids), **details
    )
    with transaction.atomic():
        jobs = list(
            ProcessingJob.objects.select_for_update()
            .filter(id__in=job_ids)
            .only("id", "attempt_log")
        )
        for job in jobs:
            job.attempt_log = [*job.attempt_log, entry]
        ProcessingJob.objects.bulk_update(jobs, ["attempt_log"], batch_size=500)
        if getattr(by, "pk", None):
            LogEntry.objects.log_actions(
                user_id=by.pk,
                queryset=ProcessingJob.objects.filter(id__in=job_ids).only(
                    "id", "job_type", "status"
                ),
                action_flag=CHANGE,
                change_message=summary,
            )


def _limited_ids(jobs, *, statuses: tuple[str, ...]) -> list[str]:
    return [
        str(job_id)
        for job_id in jobs.filter(status__in=statuses).values_list("id", flat=True)[
            : settings.OPS_BULK_MAX_JOBS
        ]
    ]


def _signature_label(signature: str) -> str:
    return signature if len(signature) <= 120 else signature[:117] + "…"


def _failure_group_act(
    *,
    action: str,
    statuses: tuple[str, ...],
    act: Callable[[str], Any],
    signature: str,
    since: datetime,
    as_of: datetime,
    by: Any,
) -> BulkOutcome:
    """Apply `act` to each job of the group (as it stood at `as_of`) in `statuses`;
    one history entry names the bulk action on every job it touched."""
    jobs = ops_selectors.failure_group_jobs(
        signature=signature, since=since, as_of=as_of
    )
    outcome = BulkOutcome(action=action)
    for job_id in _limited_ids(jobs, statuses=statuses):
        try:
            act(job_id)
        except (JobStateConflict, ProcessingJob.DoesNotExist) as exc:
            outcome.skipped.append((job_id, str(exc) or "deleted meanwhile"))
        else:
            outcome.done.append(job_id)
    bulk_action_record(
        job_ids=outcome.done,
        action=action,
        by=by,
        summary=f"Bulk {action} of failure group “{_signature_label(signature)}” "
        f"({len(outcome.done)} jobs)",
        group=signature,
    )
    logger.info(
        "failure_group_bulk_%s by=%s jobs=%d skipped=%d",
        action,
        actor_name(by),
        len(outcome.done),
        len(outcome.skipped),
    )
    return outcome


def failure_group_retry(
    *, signature: str, since: datetime, as_of: datetime, by: Any
) -> BulkOutcome:
    """Retry the failed jobs of a group as it stood at `as_of` (each a new attempt, history kept)."""
    return _failure_group_act(
        action="retry",
        statuses=(S.FAILED,),
        act=lambda job_id: job_retry(job_id=job_id, retried_by=by),
        signature=signature,
        since=since,
        as_of=as_of,
        by=by,
    )


def failure_group_cancel(
    *, signature: str, since: datetime, as_of: datetime, by: Any
) -> BulkOutcome:
    """Cancel the jobs of a group still waiting to retry (failed ones are already finished)."""
    return _failure_group_act(
        action="cancel",
        statuses=(S.RETRYING,),
        act=lambda job_id: job_cancel(job_id=job_id, cancelled_by=by),
        signature=signature,
        since=since,
        as_of=as_of,
        by=by,
    )


def _delete_unreferenced_files(files: list[dict[str, Any]]) -> tuple[int, int]:
    """Delete each file no remaining row names; returns (files deleted, bytes freed)."""
    from django.apps import apps

    deleted, freed = 0, 0
    for item in files:
        model = apps.get_model(item["model"])
        still_used = model._base_manager.filter(
            **{item["field"]: item["name"]}
        ).exists()
        if still_used:
            continue
        storage = model._meta.get_field(item["field"]).storage
        try:
            storage.delete(item["name"])
        except Exception:
            logger.warning(
                "purge could not delete file %s", item["name"], exc_info=True
            )
            continue
        deleted += 1
        freed += item["bytes"] or 0
    return deleted, freed


def failure_group_purge(
    *,
    signature: str,
    since: datetime,
    as_of: datetime,
    by: Any,
    deletable_models: set[str],
) -> BulkOutcome:
    """Delete the targets of a group's jobs (with the rows that go with them) and their files.

    Only targets of models in `deletable_models` (labels the operator may
    delete) are touched. Jobs of the group still waiting to retry are
    cancelled first, so none runs on a deleted target. The jobs stay, with
    the purge in their log.
    """
    jobs = ops_selectors.failure_group_jobs(
        signature=signature, since=since, as_of=as_of
    )
    limit = settings.OPS_BULK_MAX_JOBS
    outcome = BulkOutcome(action="purge")
    found = ops_selectors.failure_group_targets(jobs=jobs, limit=limit)
    targets = [target for target in found if target._meta.label in deletable_models]
    refused = {target._meta.label for target in found} - deletable_models
    for job_id in _limited_ids(jobs, statuses=(S.RETRYING,)):
        with contextlib.suppress(JobStateConflict, ProcessingJob.DoesNotExist):
            job_cancel(job_id=job_id, cancelled_by=by)
    plan = ops_selectors.files_to_free(targets=targets)
    by_model: dict[type[models.Model], list[Any]] = {}
    for target in targets:
        by_model.setdefault(type(target), []).append(target.pk)
    purged_keys = set()
    with transaction.atomic():
        for model, pks in by_model.items():
            model._default_manager.filter(pk__in=pks).delete()
            content_type_jobs = jobs.filter(
                content_type__app_label=model._meta.app_label,
                content_type__model=model._meta.model_name,
                object_id__in=[str(pk) for pk in pks],
            ).values_list("id", flat=True)[:limit]
            purged_keys.update(str(job_id) for job_id in content_type_jobs)
    files_deleted, bytes_freed = _delete_unreferenced_files(plan["files"])
    outcome.done = sorted(purged_keys)
    outcome.details = {
        "targets_deleted": len(targets),
        "rows_deleted": plan["rows"],
        "files_deleted": files_deleted,
        "bytes_freed": bytes_freed,
        "sizes_unknown": plan["unknown"],
        "models_refused": sorted(refused),
    }
    bulk_action_record(
        job_ids=outcome.done,
        action="purge",
        by=by,
        summary=f"Bulk purge of failure group “{_signature_label(signature)}”: "
        f"{len(targets)} targets, {files_deleted} files, {bytes_freed} bytes",
        group=signature,
        targets_deleted=len(targets),
        files_deleted=files_deleted,
        bytes_freed=bytes_freed,
    )
    logger.info(
        "failure_group_purged by=%s targets=%d files=%d bytes=%d",
        actor_name(by),
        len(targets),
        files_deleted,
        bytes_freed,
    )
    return outcome


def jobs_rerun(*, job_ids: list[Any], by: Any) -> BulkOutcome:
    """Run stuck jobs again: an active one is cancelled (its process killed) and queued anew.

    Goes through job_cancel and job_retry, so the job gets a new dispatch
    generation and task id and any old message is dropped on arrival.
    """
    outcome = BulkOutcome(action="rerun")
    for job_id in [str(job_id) for job_id in job_ids][: settings.OPS_BULK_MAX_JOBS]:
        try:
            job = ProcessingJob.objects.only("status").get(id=job_id)
            if job.status in ProcessingJob.ACTIVE_STATUSES:
                job_cancel(job_id=job_id, cancelled_by=by)
            job_retry(job_id=job_id, retried_by=by)
        except (JobStateConflict, ProcessingJob.DoesNotExist) as exc:
            outcome.skipped.append((job_id, str(exc) or "deleted meanwhile"))
        else:
            outcome.done.append(job_id)
    bulk_action_record(
        job_ids=outcome.done,
        action="rerun",
        by=by,
        summary=f"Re-run from the dashboard ({len(outcome.done)} jobs)",
    )
    return outcome


def jobs_fail(*, job_ids: list[Any], by: Any, reason: str = "") -> BulkOutcome:
    """Fail stuck jobs for good (their type's final-failure hook runs; a running one is killed)."""
    outcome = BulkOutcome(action="fail")
    actor = actor_name(by)
    for job_id in [str(job_id) for job_id in job_ids][: settings.OPS_BULK_MAX_JOBS]:
        job = ProcessingJob.objects.filter(id=job_id).first()
        if job is None or job.status not in ProcessingJob.ACTIVE_STATUSES:
            outcome.skipped.append(
                (job_id, f"job is {job.status}" if job else "deleted meanwhile")
            )
            continue
        failed = job_fail_for_good(
            job_id=job.id,
            generation=job.dispatch_generation,
            from_statuses=ProcessingJob.ACTIVE_STATUSES,
            error=f"failed by {actor} from the dashboard"
            + (f": {reason}" if reason else ""),
        )
        if failed is None:
            outcome.skipped.append((job_id, "the job moved on meanwhile"))
            continue
        if job.status == S.RUNNING:
            job_terminate(task_id=job.task_id or str(job.id), worker=job.worker)
        outcome.done.append(job_id)
    bulk_action_record(
        job_ids=outcome.done,
        action="fail",
        by=by,
        summary=f"Failed from the dashboard ({len(outcome.done)} jobs)",
    )
    return outcome
