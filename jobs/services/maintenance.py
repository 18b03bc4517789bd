"""Periodic upkeep: the watchdog, cleanup of old records, metrics snapshots."""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jobs import broker
from jobs import selectors
from jobs.context import INLINE_WORKER_PREFIX
from jobs.history import history_entry
from jobs.models import MetricsSnapshot
from jobs.models import ProcessingJob
from jobs.services.dispatch import dispatch_next
from jobs.services.dispatch import dispatch_record
from jobs.services.dispatch import jobs_send_on_commit
from jobs.services.failure import job_fail_for_good

logger = logging.getLogger(__name__)

S = ProcessingJob.Status


def _resend(job: ProcessingJob, *, event: str, reason: str) -> bool:
    """Send the job again under a new generation and task id; False if it moved on meanwhile."""
    generation, task_id = dispatch_next(job=job)
    entry = history_entry(event, reason=reason, attempt=job.attempts, task_id=task_id)
    with transaction.atomic():
        updated = ProcessingJob.objects.filter(
            id=job.id, status=job.status, dispatch_generation=job.dispatch_generation
        ).update(
            status=S.QUEUED,
            dispatch_generation=generation,
            task_id=task_id,
            attempt_log=[*job.attempt_log, entry],
            worker="",
        )
        if updated:
            dispatch_record(
                job_id=job.id, generation=generation, task_id=task_id, reason=event
            )
            job.status = S.QUEUED
            job.dispatch_generation = generation
            job.task_id = task_id
            jobs_send_on_commit(jobs=[job])
    return bool(updated)


def _fail_stale(job: ProcessingJob, *, reason: str) -> bool:
    failed = job_fail_for_good(
        job_id=job.id,
        generation=job.dispatch_generation,
        from_statuses=(S.RUNNING,),
        error=(
            f"watchdog: {reason}; out of attempts "
            f"({job.attempts} of {job.max_retries + 1})"
        ),
    )
    return failed is not None


def _recover_stuck_running(now: Any) -> tuple[dict[str, int], set[Any]]:
    stale_before = now - timedelta(seconds=settings.JOBS_STALE_HEARTBEAT_S)
    quiet_before = now - timedelta(seconds=2 * settings.JOBS_HEARTBEAT_INTERVAL_S)
    running = list(ProcessingJob.objects.filter(status=S.RUNNING))
    counts = {"requeued_running": 0, "failed_running": 0}
    handled: set[Any] = set()
    if not running:
        return counts, handled
    alive = selectors.worker_names_alive()
    for job in running:
        heartbeat_at = job.heartbeat_at or job.started_at or job.queued_at
        if heartbeat_at < stale_before:
            reason = f"no heartbeat since {heartbeat_at.isoformat()}"
        elif (
            not job.worker.startswith(INLINE_WORKER_PREFIX)
            and job.worker not in alive
            and heartbeat_at < quiet_before
        ):
            reason = f"worker {job.worker or '?'} no longer answers"
        else:
            continue
        handled.add(job.id)
        if job.attempts > job.max_retries:
            counts["failed_running"] += _fail_stale(job, reason=reason)
        else:
            counts["requeued_running"] += _resend(
                job, event="watchdog_requeue", reason=reason
            )
        logger.warning("watchdog_stuck_job job_id=%s reason=%s", job.id, reason)
    return counts, handled


def _resend_lost_messages(now: Any, *, skip: set[Any]) -> int:
    grace_before = now - timedelta(seconds=settings.JOBS_QUEUED_GRACE_S)
    waiting = list(
        ProcessingJob.objects.filter(
            Q(status=S.QUEUED, queued_at__lte=grace_before) | Q(status=S.RETRYING)
        ).exclude(id__in=skip)
    )
    if not waiting:
        return 0
    present = broker.unacked_task_ids()
    for queue in {job.queue for job in waiting}:
        present |= broker.waiting_task_ids(queue)
    resent = 0
    for job in waiting:
        if (job.task_id or str(job.id)) in present:
            continue
        if _resend(
            job, event="watchdog_resend", reason="message missing from the broker"
        ):
            resent += 1
            logger.warning("watchdog_resent job_id=%s queue=%s", job.id, job.queue)
    return resent


def watchdog_run() -> dict[str, int]:
    """Recover what the broker or a worker lost: stuck running jobs and queued jobs without a message.

    Safe to run at any time and concurrently with workers: each recovery is a
    conditional update that loses to a worker claiming the job first.
    """
    now = timezone.now()
    summary, requeued = _recover_stuck_running(now)
    # Jobs just requeued are sent on commit: their message may not be out yet.
    summary["resent_queued"] = _resend_lost_messages(now, skip=requeued)
    try:
        summary["bindings_repaired"] = broker.bindings_repair()
    except Exception:
        logger.exception("could not check the broker's exchange bindings")
    logger.info(
        "watchdog_run %s", " ".join(f"{key}={value}" for key, value in summary.items())
    )
    return summary


def jobs_delete_finished(*, older_than_days: int | None = None) -> int:
    """Delete completed, failed and cancelled jobs that finished before the cutoff; returns the count."""
    days = settings.JOBS_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = ProcessingJob.objects.filter(
        status__in=ProcessingJob.FINISHED_STATUSES, completed_at__lt=cutoff
    ).delete()
    logger.info("jobs_deleted count=%d older_than_days=%d", deleted, days)
    return deleted


def metrics_snapshot_take() -> MetricsSnapshot:
    """Store counts and queue depths now; drop snapshots past the job retention."""
    snapshot = MetricsSnapshot.objects.create(
        counts_by_status=selectors.job_counts_by_status(),
        queue_depths={
            queue["name"]: {
                "waiting": queue["waiting"],
                "in_broker": queue["in_broker"],
                "reserved": queue["reserved"],
                "running": queue["running"],
            }
            for queue in selectors.queue_list()
        },
        type_stats=selectors.job_type_stats(),
    )
    cutoff = timezone.now() - timedelta(days=settings.JOBS_RETENTION_DAYS)
    MetricsSnapshot.objects.filter(taken_at__lt=cutoff).delete()
    return snapshot
