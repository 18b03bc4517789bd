"""Messages to running workers (Celery remote control); fire and forget."""

import logging

from celery import current_app

logger = logging.getLogger(__name__)


def _broadcast(
    command: str, *, arguments: dict, destination: list[str] | None = None
) -> None:
    try:
        current_app.control.broadcast(
            command, arguments=arguments, destination=destination
        )
    except Exception:
        # The durable state is already written: the pause flag and the job
        # row decide what a worker does with its next message.
        logger.exception("broadcast %s failed", command)


def job_terminate(*, task_id: str, worker: str = "") -> None:
    """Ask the worker running a job's task to kill the process that runs it."""
    _broadcast(
        "mq_terminate_job",
        arguments={"task_id": task_id},
        destination=[worker] if worker else None,
    )


def workers_stop_consuming(*, queue: str) -> None:
    """Tell every worker to stop consuming a queue (a pause)."""
    _broadcast("mq_pause_queue", arguments={"queue": queue})


def worker_stop_consuming(*, queue: str, worker: str) -> None:
    """Tell one worker to stop consuming a queue it took up while paused."""
    _broadcast("mq_pause_queue", arguments={"queue": queue}, destination=[worker])


def workers_resume_consuming(*, queue: str) -> None:
    """Tell every worker started with the queue to consume it again."""
    _broadcast("mq_resume_queue", arguments={"queue": queue})
