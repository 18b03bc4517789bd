"""Signal receivers of the operator's view, connected when the jobs app is ready.

Each receiver is a seam the engine already has, so nothing in the engine's
hot path changed:

- Celery's `task_postrun` after a job's task: the job-outcome webhooks
  (nothing at all when no owner has an endpoint), and after the watchdog
  task its actions, counted for /metrics;
- Celery's `task_retry`: automatic retries per job type, counted;
- the result backend's row saved with state PROGRESS: the progress history;
- a JobDispatch row created (a resend): resends per reason, counted;
- SQLite connections: the error-signature function the failure groups use.
"""

import json
import logging

from celery import signals
from celery import states
from django.db.backends.signals import connection_created
from django.db.models.signals import post_delete
from django.db.models.signals import post_save
from django.dispatch import receiver
from django_celery_results.models import TaskResult

from jobs.job_types import job_type_get
from jobs.metrics_counters import counter_add
from jobs.metrics_counters import counters_add
from jobs.models import JobDispatch
from jobs.models import WebhookEndpoint
from jobs.ops import progress
from jobs.ops import tasks  # noqa: F401  (registers the webhook job type)
from jobs.selectors.ops import SQLITE_SIGNATURE_FUNCTION
from jobs.selectors.ops import error_signature
from jobs.services import webhooks

logger = logging.getLogger(__name__)

WATCHDOG_TASK = "jobs.watchdog"


def _is_job_type(name: str) -> bool:
    try:
        job_type_get(name)
    except KeyError:
        return False
    return True


@signals.task_postrun.connect(dispatch_uid="jobs-ops-task-postrun")
def after_task(sender=None, task=None, kwargs=None, retval=None, state=None, **extra):
    name = getattr(task, "name", "") or ""
    if name == WATCHDOG_TASK:
        _count_watchdog(retval, state)
        return
    if (
        state not in (states.SUCCESS, states.FAILURE)
        or name == webhooks.WEBHOOK_JOB_TYPE
        or not _is_job_type(name)
    ):
        return
    job_id = (kwargs or {}).get("job_id")
    if not job_id:
        return
    try:
        webhooks.job_outcome_notify(job_id=job_id)
    except Exception:  # the sweep catches what was missed; the worker goes on
        logger.exception("job outcome webhooks not queued job_id=%s", job_id)


def _count_watchdog(retval, state) -> None:
    if state != states.SUCCESS or not isinstance(retval, dict):
        return
    counters_add(
        [("watchdog_runs", {}, 1)]
        + [
            ("watchdog_actions", {"action": action}, count)
            for action, count in retval.items()
            if isinstance(count, int)
        ]
    )


@signals.task_retry.connect(dispatch_uid="jobs-ops-task-retry")
def count_retry(sender=None, **extra) -> None:
    name = getattr(sender, "name", "") or ""
    if _is_job_type(name):
        counter_add("job_retries", {"job_type": name})


@receiver(post_save, sender=TaskResult, dispatch_uid="jobs-ops-progress-history")
def keep_progress_step(sender=None, instance=None, **extra) -> None:
    if instance is None or instance.status != "PROGRESS":
        return
    try:
        meta = json.loads(instance.result or "{}")
        if not isinstance(meta, dict) or not meta.get("job_id"):
            return
        progress.progress_step_record(
            task_id=instance.task_id,
            job_id=meta["job_id"],
            percent=int(meta.get("percent") or 0),
            message=str(meta.get("message") or ""),
        )
    except Exception:  # history is a nicety: the job's progress is on its row
        logger.warning(
            "progress step not kept task_id=%s", instance.task_id, exc_info=True
        )


@receiver(post_save, sender=JobDispatch, dispatch_uid="jobs-ops-resends")
def count_resend(sender=None, instance=None, created=False, **extra) -> None:
    if created and instance is not None:
        counter_add("job_resends", {"reason": instance.reason})


@receiver(post_save, sender=WebhookEndpoint, dispatch_uid="jobs-ops-endpoint-saved")
@receiver(post_delete, sender=WebhookEndpoint, dispatch_uid="jobs-ops-endpoint-gone")
def forget_webhook_owners(sender=None, **extra) -> None:
    webhooks.webhook_owners_forget()


@receiver(connection_created, dispatch_uid="jobs-ops-sqlite-signature")
def add_signature_function(sender=None, connection=None, **extra) -> None:
    """SQLite has no regexp_replace: the failure groups' signature is a Python function there."""
    if connection is not None and connection.vendor == "sqlite":
        connection.connection.create_function(
            SQLITE_SIGNATURE_FUNCTION, 1, error_signature, deterministic=True
        )
