"""Handlers of Celery's and Django's signals: revokes, pause state at start, log lines, commits."""

import logging
import time

from celery import signals
from django.conf import settings
from django.db.backends.signals import connection_created
from django.dispatch import receiver

from jobs import worker_control
from jobs.job_types import job_type_get

logger = logging.getLogger("jobs.events")


def _is_job_task(name: str | None) -> bool:
    try:
        job_type_get(name or "")
    except KeyError:
        return False
    return True


# Job tasks log one line per outcome themselves (jobs.runtime); plain tasks
# (the watchdog, cleanups) get one line here, with their run time.
_plain_task_started: dict[str, float] = {}


@signals.task_prerun.connect
def note_plain_task_start(sender=None, task_id=None, task=None, **kwargs) -> None:
    if not _is_job_task(getattr(task, "name", None)):
        _plain_task_started[task_id] = time.monotonic()


@signals.task_postrun.connect
def log_plain_task_outcome(
    sender=None, task_id=None, task=None, state=None, **kwargs
) -> None:
    started = _plain_task_started.pop(task_id, None)
    if started is None:
        return
    logger.info(
        "task_finished task_id=%s task=%s state=%s duration_ms=%.1f",
        task_id,
        task.name,
        state,
        (time.monotonic() - started) * 1000,
    )


@signals.task_revoked.connect
def cancel_job_of_revoked_task(
    sender=None, request=None, terminated=False, expired=False, **kwargs
) -> None:
    """A revoke from Flower or `celery control revoke` cancels the job, with who/when in its log."""
    from jobs import services

    if request is None or not _is_job_task(getattr(sender, "name", None)):
        return
    job_kwargs = getattr(request, "kwargs", None) or {}
    try:
        services.job_record_revoked(
            task_id=request.id,
            job_id=job_kwargs.get("job_id"),
            generation=job_kwargs.get("generation"),
            worker=getattr(request, "hostname", "") or "",
            terminated=bool(terminated),
            expired=bool(expired),
        )
    except Exception:  # the worker must go on; the watchdog sees the job later
        logger.exception("could not record the revoke of task %s", request.id)


_in_worker_process = False


@signals.worker_process_init.connect
@signals.worker_init.connect
def mark_worker_process(**kwargs) -> None:
    global _in_worker_process
    _in_worker_process = True


@receiver(connection_created)
def read_out_of_range_timestamps(sender=None, connection=None, **kwargs) -> None:
    """PostgreSQL: a timestamp Python cannot hold reads as the nearest one it can."""
    if connection.vendor == "postgresql":
        from inputs import pg_loaders

        pg_loaders.register(connection.connection)


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
    from jobs import broker
    from jobs import selectors

    worker_control.remember_configured_queues(sender)
    try:
        broker.bindings_repair()
    except Exception:
        logger.exception("could not check the broker's exchange bindings at start")
    try:
        paused = selectors.paused_queue_names()
    except Exception:
        logger.exception("could not read paused queues at worker start")
        return
    for queue in paused:
        if worker_control.stop_consuming(sender, queue):
            logger.info("worker_start_paused queue=%s", queue)
