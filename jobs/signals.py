"""Handlers of Celery's signals: structured log lines and pause state at worker start."""

import logging

from celery import signals
from django.conf import settings
from django.db.backends.signals import connection_created
from django.dispatch import receiver

from jobs import worker_control  # noqa: F401  (registers the remote control commands)

logger = logging.getLogger("jobs.events")


@signals.task_prerun.connect
def log_task_prerun(sender=None, task_id=None, task=None, **kwargs) -> None:
    logger.info(
        "task_prerun task_id=%s task=%s retries=%s",
        task_id,
        task.name,
        task.request.retries,
    )


@signals.task_postrun.connect
def log_task_postrun(
    sender=None, task_id=None, task=None, state=None, **kwargs
) -> None:
    logger.info("task_postrun task_id=%s task=%s state=%s", task_id, task.name, state)


@signals.task_retry.connect
def log_task_retry(sender=None, request=None, reason=None, **kwargs) -> None:
    logger.warning(
        "task_retry task_id=%s task=%s reason=%s",
        getattr(request, "id", None),
        getattr(sender, "name", None),
        reason,
    )


@signals.task_failure.connect
def log_task_failure(sender=None, task_id=None, exception=None, **kwargs) -> None:
    logger.error(
        "task_failure task_id=%s task=%s error=%s",
        task_id,
        getattr(sender, "name", None),
        f"{type(exception).__name__}: {exception}",
    )


_in_worker_process = False


@signals.worker_process_init.connect
@signals.worker_init.connect
def mark_worker_process(**kwargs) -> None:
    global _in_worker_process
    _in_worker_process = True


@receiver(connection_created)
def relax_commit_flush_in_workers(sender=None, connection=None, **kwargs) -> None:
    """See JOBS_WORKER_SYNCHRONOUS_COMMIT: only worker processes, only PostgreSQL."""
    if (
        _in_worker_process
        and connection.vendor == "postgresql"
        and not settings.JOBS_WORKER_SYNCHRONOUS_COMMIT
    ):
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")


@signals.worker_ready.connect
def apply_pauses_on_worker_start(sender=None, **kwargs) -> None:
    """A worker started while a queue is paused must not consume it."""
    from jobs.services import paused_queue_names

    worker_control.remember_configured_queues(sender)
    try:
        paused = paused_queue_names()
    except Exception:
        logger.exception("could not read paused queues at worker start")
        return
    for queue in paused:
        if worker_control.stop_consuming(sender, queue):
            logger.info("worker_start_paused queue=%s", queue)
