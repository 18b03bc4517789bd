"""Periodic upkeep: the watchdog, cleanup of old records, metrics snapshots."""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from jobs import broker
from jobs import selectors
from jobs.models import MetricsSnapshot
from jobs.models import ProcessingJob
from jobs.runtime import INLINE_WORKER_PREFIX
from jobs.services.dispatch import jobs_send_on_commit

logger = logging.getLogger(__name__)

S = ProcessingJob.Status


def _resend(job: ProcessingJob, *, event: str, reason: str) -> bool:
    """Give the job a new generation and send it again; False if it moved on meanwhile."""
    entry = {
        "event": event,
        "at": timezone.now().isoformat(),
        "reason": reason,
        "attempt": job.attempts,
    }
    updated = ProcessingJob.objects.filter(
        id=job.id, status=job.status, dispatch_generation=job.dispatch_generation
    ).update(
        status=S.QUEUED,
        dispatch_generation=job.dispatch_generation + 1,
        attempt_log=[*job.attempt_log, entry],
        worker="",
    )
    if updated:
        job.status = S.QUEUED
        job.dispatch_generation += 1
        jobs_send_on_commit(jobs=[job])
    return bool(updated)


def _fail_stale(job: ProcessingJob, *, reason: str) -> bool:
    return bool(
        ProcessingJob.objects.filter(
            id=job.id, status=S.RUNNING, dispatch_generation=job.dispatch_generation
        ).update(
            status=S.FAILED,
            completed_at=timezone.now(),
            error_message=f"watchdog: {reason}; out of attempts ({job.attempts} of {job.max_retries + 1})",
        )
    )


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
        if str(job.id) in present:
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
            queue["name"]: queue["depth"] for queue in selectors.queue_list()
        },
        type_stats=selectors.job_type_stats(),
    )
    cutoff = timezone.now() - timedelta(days=settings.JOBS_RETENTION_DAYS)
    MetricsSnapshot.objects.filter(taken_at__lt=cutoff).delete()
    return snapshot
