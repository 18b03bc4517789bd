"""Remote control commands the job engine adds to every worker (run in the main process)."""

import logging

from celery.worker import state as worker_state
from celery.worker.control import control_command

logger = logging.getLogger(__name__)

# The queues this worker was started with: resume must not make a worker
# consume a queue it was never meant to serve.
configured_queues: set[str] = set()


def remember_configured_queues(consumer) -> None:
    configured_queues.clear()
    configured_queues.update(
        consumer.app.amqp.queues.consume_from or consumer.app.amqp.queues
    )


def stop_consuming(consumer, queue: str) -> bool:
    if not consumer.task_consumer or not consumer.task_consumer.consuming_from(queue):
        return False
    consumer.cancel_task_queue(queue)
    return True


@control_command(args=[("queue", str)], signature="<queue>")
def mq_pause_queue(state, queue: str) -> dict:
    """Stop consuming a paused queue (the job engine's pause)."""
    stopped = stop_consuming(state.consumer, queue)
    return {"ok": f"stopped consuming {queue}" if stopped else f"not consuming {queue}"}


@control_command(args=[("queue", str)], signature="<queue>")
def mq_resume_queue(state, queue: str) -> dict:
    """Consume a resumed queue again, if this worker was started with it."""
    if queue not in configured_queues:
        return {"ok": f"{queue} is not one of this worker's queues"}
    state.consumer.add_task_queue(queue)
    return {"ok": f"consuming {queue}"}


@control_command(args=[("job_id", str)], signature="<job_id>")
def mq_terminate_job(state, job_id: str) -> dict:
    """Kill the process running a cancelled job, without remembering the id as revoked.

    Celery's own revoke would keep the id in the worker's revoked set, and a
    job retried later under the same id would then be discarded.
    """
    for request in list(worker_state.active_requests):
        if request.id == job_id:
            request.terminate(state.consumer.pool, signal="SIGTERM")
            logger.info("job_terminated job_id=%s", job_id)
            return {"ok": f"terminated {job_id}"}
    return {"ok": f"{job_id} is not running here"}
