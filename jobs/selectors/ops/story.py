"""A job's story: its timeline, its attempts, its lineage (sends and re-runs)."""

from datetime import datetime
from datetime import timedelta
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from jobs.models import JobDispatch
from jobs.models import JobProgressStep
from jobs.models import ProcessingJob
from jobs.models import WebhookDelivery
from jobs.selectors.ops.common import S
from jobs.selectors.ops.common import parse_moment
from jobs.selectors.ops.common import seconds

EVENT_LABELS = {
    "attempt_failed": "attempt failed",
    "cancelled": "cancelled",
    "manual_retry": "retried",
    "purged": "purged",
    "revoked": "revoked through Celery",
    "watchdog_requeue": "re-sent by the watchdog",
    "watchdog_resend": "re-sent by the watchdog (message lost)",
    "bulk_action": "bulk action",
    "operator_rerun": "re-run by an operator",
    "operator_fail": "failed by an operator",
}


# Events after which the row's queued_at is the latest queueing, not the first.
REQUEUE_EVENTS = {"manual_retry", "operator_rerun"}


def job_attempt_list(*, job: ProcessingJob) -> list[dict[str, Any]]:
    """Each attempt of the job: number, worker, start, end, outcome, error, and the retry delay after it.

    Failed attempts come from the attempt log; the current one from the row.
    """
    attempts = []
    for entry in job.attempt_log or []:
        if not isinstance(entry, dict) or entry.get("event") != "attempt_failed":
            continue
        ended = parse_moment(entry.get("at"))
        started = parse_moment(entry.get("started_at"))
        retry_in_s = entry.get("retry_in_s")
        attempts.append(
            {
                "number": entry.get("attempt"),
                "worker": entry.get("worker", ""),
                "started_at": started,
                "ended_at": ended,
                "duration_s": seconds(ended - started) if ended and started else None,
                "outcome": "failed" if entry.get("final") else "failed, retried",
                "error": entry.get("error", ""),
                "retry_in_s": retry_in_s,
                "retry_at": ended + timedelta(seconds=retry_in_s)
                if ended and retry_in_s is not None
                else None,
            }
        )
    # The current (or last) attempt is on the row unless its failure was logged.
    if job.started_at and not any(
        attempt["started_at"] == job.started_at for attempt in attempts
    ):
        ended = job.completed_at if job.status != S.RUNNING else None
        attempts.append(
            {
                "number": job.attempts,
                "worker": job.worker,
                "started_at": job.started_at,
                "ended_at": ended,
                "duration_s": seconds(ended - job.started_at) if ended else None,
                "outcome": job.status,
                "error": job.error_message if job.status == S.FAILED else "",
                "retry_in_s": None,
                "retry_at": None,
            }
        )
    return attempts


def job_next_retry_at(*, job: ProcessingJob) -> datetime | None:
    """When a retrying job's next attempt is due (its last failure plus the delay), else None."""
    if job.status != S.RETRYING:
        return None
    for entry in reversed(job.attempt_log or []):
        if isinstance(entry, dict) and entry.get("event") == "attempt_failed":
            ended = parse_moment(entry.get("at"))
            delay = entry.get("retry_in_s")
            if ended and delay is not None:
                return ended + timedelta(seconds=delay)
            return None
    return None


def _event_detail(entry: dict[str, Any]) -> str:
    skip = {"event", "at", "by"}
    parts = []
    for key, value in entry.items():
        if key in skip or value in (None, ""):
            continue
        parts.append(f"{key.replace('_', ' ')}: {value}")
    return "; ".join(parts)


def job_timeline_get(*, job: ProcessingJob) -> list[dict[str, Any]]:
    """The job's story in time order: queued, attempts, progress steps, retries and their
    delays, cancels and retries by whom, watchdog and bulk actions, resends, admin actions.

    Built from the row, its attempt log, its progress history, its resends
    (JobDispatch) and the admin's LogEntry rows: four queries.
    """
    events: list[dict[str, Any]] = []

    def add(moment, kind, title, detail="", by=""):
        if moment is not None:
            events.append(
                {"at": moment, "kind": kind, "title": title, "detail": detail, "by": by}
            )

    requeued = any(
        isinstance(entry, dict) and entry.get("event") in REQUEUE_EVENTS
        for entry in job.attempt_log or []
    )
    add(
        job.queued_at,
        "queued",
        f"queued {'again ' if requeued else ''}on {job.queue}",
        f"priority {job.priority}",
    )
    for entry in job.attempt_log or []:
        if not isinstance(entry, dict):
            continue
        event = entry.get("event", "?")
        moment = parse_moment(entry.get("at"))
        if event == "attempt_failed":
            started = parse_moment(entry.get("started_at"))
            add(
                started,
                "started",
                f"attempt {entry.get('attempt')} started",
                f"on {entry.get('worker') or '?'}",
            )
            retry = entry.get("retry_in_s")
            detail = entry.get("error", "")
            title = f"attempt {entry.get('attempt')} failed"
            if retry is not None:
                title += f"; retry in {retry:.1f} s"
            elif entry.get("final"):
                title += " for good"
            add(moment, "failed", title, detail)
            continue
        add(
            moment,
            event,
            EVENT_LABELS.get(event, event.replace("_", " ")),
            _event_detail(entry),
            entry.get("by", ""),
        )
    for step in JobProgressStep.objects.filter(job=job).order_by("reported_at", "id"):
        add(step.reported_at, "progress", f"{step.percent}%", step.message)
    for dispatch in JobDispatch.objects.filter(job=job).order_by("generation"):
        add(
            dispatch.dispatched_at,
            "dispatch",
            f"sent again ({dispatch.reason.replace('_', ' ')})",
            f"generation {dispatch.generation}, task {dispatch.task_id}",
        )
    logged = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(ProcessingJob),
        object_id=str(job.pk),
    ).select_related("user")
    for entry in logged:
        add(
            entry.action_time,
            "admin",
            "admin action",
            entry.get_change_message(),
            getattr(entry.user, "username", ""),
        )
    if job.started_at:
        add(
            job.started_at,
            "started",
            f"attempt {job.attempts} started",
            f"on {job.worker or '?'}",
        )
    if job.status == S.RUNNING and job.heartbeat_at:
        add(
            job.heartbeat_at,
            "heartbeat",
            f"last heartbeat ({job.progress}%)",
            job.progress_message,
        )
    if job.completed_at and job.status in ProcessingJob.FINISHED_STATUSES:
        title = {
            S.COMPLETED: "completed",
            S.FAILED: "failed for good",
            S.CANCELLED: "cancelled",
        }[job.status]
        add(job.completed_at, job.status, title, job.error_message)
    next_retry = job_next_retry_at(job=job)
    if next_retry:
        add(next_retry, "retry_due", "next attempt due")
    order = {"queued": 0, "dispatch": 1, "started": 2, "progress": 3}
    events.sort(key=lambda event: (event["at"], order.get(event["kind"], 4)))
    # The same moment told twice (a failed attempt's start is also the row's
    # start until the next claim): keep the first.
    unique, seen = [], set()
    for event in events:
        key = (event["at"], event["kind"], event["title"])
        if key not in seen:
            seen.add(key)
            unique.append(event)
    return unique


def job_lineage_get(*, job: ProcessingJob) -> dict[str, Any]:
    """The job's sends (first send and each resend with its task id and reason) and the
    other jobs of the same type on the same target (earlier and later re-runs)."""
    # After a retry the row's queued_at is the latest queueing: the first
    # send's time is then unknown (the first attempt's start bounds it).
    dispatches = list(JobDispatch.objects.filter(job=job).order_by("generation"))
    sends = [
        {
            "generation": 0,
            "task_id": str(job.id),
            "reason": "first send",
            "at": None if dispatches else job.queued_at,
        }
    ]
    for dispatch in dispatches:
        sends.append(
            {
                "generation": dispatch.generation,
                "task_id": dispatch.task_id,
                "reason": dispatch.reason.replace("_", " "),
                "at": dispatch.dispatched_at,
            }
        )
    reruns: list[ProcessingJob] = []
    if job.content_type_id:
        reruns = list(
            ProcessingJob.objects.filter(
                content_type_id=job.content_type_id,
                object_id=job.object_id,
                job_type=job.job_type,
            )
            .exclude(id=job.id)
            .only("id", "status", "queued_at", "completed_at", "attempts", "job_type")
            .order_by("-queued_at")[:20]
        )
    return {"sends": sends, "reruns": reruns}


def job_webhook_delivery_list(*, job: ProcessingJob) -> QuerySet[WebhookDelivery]:
    """Webhook deliveries about this job, newest first."""
    return WebhookDelivery.objects.filter(job=job).select_related("endpoint")[:50]
