"""The job row's side of running a job: claim, progress, heartbeat, outcome.

These run in worker processes on every job, so each is one conditional
statement on the row: the hot path writes each state change once.
"""

import functools
import logging
import random
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS
from django.db import connections
from django.db import transaction
from django.utils import timezone

from jobs import hot_statements
from jobs.context import JobContext
from jobs.errors import QueuePaused
from jobs.history import history_entry
from jobs.models import ProcessingJob
from jobs.models import QueueState
from jobs.services.failure import final_failure_notify
from jobs.services.failure import job_fail_for_good

logger = logging.getLogger(__name__)

S = ProcessingJob.Status


@functools.cache
def _claim_sql(vendor: str, *, respect_pause: bool, again: bool = False) -> str:
    # One statement claims the row and reads what the job needs, and it
    # checks the pause flag too: no extra round trip on the hot path. The
    # statuses are our own constants, written into the text: fewer
    # parameters to send on every job.
    db = connections[DEFAULT_DB_ALIAS]
    table = db.ops.quote_name(ProcessingJob._meta.db_table)
    queue_table = db.ops.quote_name(QueueState._meta.db_table)
    pause_check = (
        f"AND NOT EXISTS (SELECT 1 FROM {queue_table} q "
        f"WHERE q.name = {table}.queue AND q.is_paused) "
        if respect_pause
        else ""
    )
    claimable = (
        f"status IN ('{S.QUEUED.value}', '{S.RETRYING.value}', '{S.RUNNING.value}') "
        f"AND attempts <= max_retries {pause_check}"
    )
    attempts = "attempts + 1"
    if again:
        # Sent again on a new connection after the first connection died
        # with no answer: the first may have committed. A row this very
        # claim (this worker, this timestamp) already holds is answered
        # as claimed, its attempt counted once.
        ours = (
            f"status = '{S.RUNNING.value}' AND worker = %(worker)s "
            "AND started_at = %(now)s"
        )
        attempts = f"CASE WHEN {ours} THEN attempts ELSE attempts + 1 END"
        claimable = f"(({claimable}) OR ({ours}))"
    return (
        f"UPDATE {table} SET status = '{S.RUNNING.value}', attempts = {attempts}, "
        "worker = %(worker)s, started_at = %(now)s, heartbeat_at = %(now)s, "
        "progress = 0, progress_message = '' "
        f"WHERE id = %(id)s AND dispatch_generation = %(generation)s AND {claimable} "
        "RETURNING job_type, queue, params, content_type_id, object_id, attempts, "
        "max_retries, task_id"
    )


@functools.cache
def _complete_sql(vendor: str, *, again: bool = False) -> str:
    table = connections[DEFAULT_DB_ALIAS].ops.quote_name(ProcessingJob._meta.db_table)
    running = f"status = '{S.RUNNING.value}'"
    if again:
        # As for the claim: the first send may have committed.
        running = (
            f"({running} OR (status = '{S.COMPLETED.value}' "
            "AND completed_at = %(now)s))"
        )
    return (
        f"UPDATE {table} SET status = '{S.COMPLETED.value}', result = %(result)s, "
        "progress = 100, completed_at = %(now)s, heartbeat_at = %(now)s, "
        "error_message = '', traceback = '' "
        f"WHERE id = %(id)s AND dispatch_generation = %(generation)s AND {running}"
    )


def _db_values(db: Any, *, job_id: str, generation: int) -> dict[str, Any]:
    """The parameters both statements share, as the connection takes them."""
    now = timezone.now()
    if hot_statements.prepares(db):
        # psycopg adapts these itself (the id as text PostgreSQL casts to
        # uuid); Django's field preparation costs more than the rest of the
        # claim's Python.
        return {"id": str(job_id), "now": now, "generation": generation}
    meta = ProcessingJob._meta
    return {
        "id": meta.pk.get_db_prep_value(job_id, db),
        "now": meta.get_field("started_at").get_db_prep_value(now, db),
        "generation": generation,
    }


def job_claim(
    *, job_id: str, generation: int, worker: str, respect_pause: bool = True
) -> JobContext | None:
    """Mark the job running for this delivery, in one statement; None when it must not run.

    A running job may be claimed again: that is a redelivery after its
    worker died. A message of an older generation, a finished or
    cancelled job, or one past its attempt limit is not claimed (the last
    is failed for good). Raises QueuePaused when the job's queue is paused
    (the message must wait).
    """
    db = connections[DEFAULT_DB_ALIAS]
    row, _ = hot_statements.run(
        _claim_sql(db.vendor, respect_pause=respect_pause),
        {**_db_values(db, job_id=job_id, generation=generation), "worker": worker},
        fetch=True,
        sql_again=_claim_sql(db.vendor, respect_pause=respect_pause, again=True),
    )
    if row is None:
        _explain_unclaimed(
            job_id=job_id, generation=generation, respect_pause=respect_pause
        )
        return None
    (
        job_type,
        queue,
        raw_params,
        content_type_id,
        object_id,
        attempts,
        max_retries,
        task_id,
    ) = row
    params = ProcessingJob._meta.get_field("params").from_db_value(raw_params, None, db)
    target_type = None
    if content_type_id:
        content_type = ContentType.objects.get_for_id(content_type_id)
        target_type = f"{content_type.app_label}.{content_type.model}"
    return JobContext(
        id=str(job_id),
        job_type=job_type,
        queue=queue,
        params=params or {},
        target_type=target_type,
        target_id=object_id,
        attempt=attempts,
        max_retries=max_retries,
        task_id=task_id or str(job_id),
    )


def _explain_unclaimed(*, job_id: str, generation: int, respect_pause: bool) -> None:
    job = ProcessingJob.objects.filter(id=job_id).first()
    if (
        job is not None
        and respect_pause
        and job.dispatch_generation == generation
        and job.is_active
        and QueueState.objects.filter(name=job.queue, is_paused=True).exists()
    ):
        raise QueuePaused(job.queue)
    if job is None:
        logger.warning("job_dropped job_id=%s reason=deleted", job_id)
    elif job.dispatch_generation != generation:
        logger.info("job_dropped job_id=%s reason=superseded-message", job_id)
    elif job.is_active and job.attempts > job.max_retries:
        # Redelivered after its worker died on every attempt (e.g. OOM):
        # running it again would loop forever.
        failed = job_fail_for_good(
            job_id=job_id,
            generation=generation,
            from_statuses=ProcessingJob.ACTIVE_STATUSES,
            error=(
                f"redelivered after {job.attempts} attempts, past its limit of "
                f"{job.max_retries + 1}; the worker died or was killed on each"
            ),
        )
        logger.error(
            "job_failed job_id=%s reason=attempts-exhausted-on-redelivery updated=%s",
            job_id,
            failed is not None,
        )
    else:
        logger.info("job_dropped job_id=%s reason=status-%s", job_id, job.status)


def job_heartbeat(*, job_id: str) -> None:
    """Show that a running job's worker is alive."""
    ProcessingJob.objects.filter(id=job_id, status=S.RUNNING).update(
        heartbeat_at=timezone.now()
    )


def job_progress_report(
    *, job_id: str, percent: int, message: str = "", generation: int | None = None
) -> bool:
    """Record a running job's progress (0-100) and message; counts as a heartbeat.

    Returns False when the job is no longer running under that generation
    (cancelled, or superseded by a resend): the caller should stop.
    """
    running = ProcessingJob.objects.filter(id=job_id, status=S.RUNNING)
    if generation is not None:
        running = running.filter(dispatch_generation=generation)
    return bool(
        running.update(
            progress=max(0, min(100, percent)),
            progress_message=message[:255],
            heartbeat_at=timezone.now(),
        )
    )


def job_complete(*, job_id: str, generation: int, result: Any) -> bool:
    """Record success, unless the job was cancelled or superseded meanwhile."""
    db = connections[DEFAULT_DB_ALIAS]
    params = _db_values(db, job_id=job_id, generation=generation)
    params["result"] = ProcessingJob._meta.get_field("result").get_db_prep_value(
        result, db
    )
    _, updated = hot_statements.run(
        _complete_sql(db.vendor),
        params,
        fetch=False,
        sql_again=_complete_sql(db.vendor, again=True),
    )
    if not updated:
        logger.info("job_result_discarded job_id=%s reason=no-longer-running", job_id)
    return bool(updated)


def retry_delay_s(*, attempt: int) -> float:
    """Exponential backoff with jitter: half fixed, half random, capped."""
    ceiling = min(
        settings.JOBS_RETRY_BACKOFF_MAX_S,
        settings.JOBS_RETRY_BACKOFF_BASE_S * (2 ** max(0, attempt - 1)),
    )
    return round(ceiling / 2 + random.uniform(0, ceiling / 2), 3)


@transaction.atomic
def job_record_failure(
    *, job_id: str, generation: int, error: str, traceback_text: str, retryable: bool
) -> tuple[str, float | None] | None:
    """Record a failed attempt; returns (status, retry delay in s or None), or None if not running.

    `retrying` when attempts are left and the error is retryable; otherwise
    `failed`, and the job type's `on_final_failure` hook runs in this
    transaction.
    """
    job = (
        ProcessingJob.objects.select_for_update()
        .filter(id=job_id, dispatch_generation=generation, status=S.RUNNING)
        .first()
    )
    if job is None:
        return None
    details: dict[str, Any] = {
        "attempt": job.attempts,
        "worker": job.worker,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "error": error[:2000],
    }
    retry_in_s = None
    if retryable and job.attempts <= job.max_retries:
        retry_in_s = retry_delay_s(attempt=job.attempts)
        details["retry_in_s"] = retry_in_s
        job.status = S.RETRYING
    else:
        job.status = S.FAILED
        job.completed_at = timezone.now()
        job.traceback = traceback_text
        details["final"] = True
    job.error_message = error
    job.attempt_log = [*job.attempt_log, history_entry("attempt_failed", **details)]
    job.save(
        update_fields=[
            "status",
            "completed_at",
            "traceback",
            "error_message",
            "attempt_log",
        ]
    )
    if job.status == S.FAILED:
        final_failure_notify(job=job)
    return job.status, retry_in_s
