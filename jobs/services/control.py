"""Messages to running workers (Celery remote control); fire and forget."""

import logging

logger = logging.getLogger(__name__)


def _broadcast(
    command: str, *, arguments: dict, destination: list[str] | None = None
) -> None:
    from config.celery_app import app

    try:
        app.control.broadcast(command, arguments=arguments, destination=destination)
    except Exception:
        # The durable state is already written: the pause flag in Redis and
        # the job row decide what a worker does with its next message.
        logger.exception("broadcast %s failed", command)


def job_terminate(*, job_id: str, worker: str = "") -> None:
    """Ask the worker running a job to kill the process that runs it."""
    _broadcast(
        "mq_terminate_job",
        arguments={"job_id": job_id},
        destination=[worker] if worker else None,
    )


def workers_stop_consuming(*, queue: str) -> None:
    _broadcast("mq_pause_queue", arguments={"queue": queue})


def workers_resume_consuming(*, queue: str) -> None:
    _broadcast("mq_resume_queue", arguments={"queue": queue})
