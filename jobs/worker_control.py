"""What the job engine adds to every worker's main process.

Remote-control commands (pause, resume, terminate a job) and the presence
record: each worker writes its name, queues and pool size to Redis every few
seconds, so the web side knows the workers and which queues they consume
without a broadcast that waits for replies.
"""

import json
import logging
import os
import time

from celery import bootsteps
from celery.worker import state as worker_state
from celery.worker.control import control_command
from django.conf import settings

logger = logging.getLogger(__name__)

PRESENCE_KEY = "mq:workers"

# The queues this worker was started with: resume must not make a worker
# consume a queue it was never meant to serve.
configured_queues: set[str] = set()


def remember_configured_queues(consumer) -> None:
    configured_queues.clear()
    configured_queues.update(
        consumer.app.amqp.queues.consume_from or consumer.app.amqp.queues
    )


def consumed_queues(consumer) -> list[str]:
    """The queues this worker consumes right now (pauses and add/cancel_consumer included)."""
    task_consumer = getattr(consumer, "task_consumer", None)
    if task_consumer is None:
        return []
    return sorted(queue.name for queue in task_consumer.queues)


def stop_consuming(consumer, queue: str) -> bool:
    if not consumer.task_consumer or not consumer.task_consumer.consuming_from(queue):
        return False
    consumer.cancel_task_queue(queue)
    return True


@control_command(args=[("queue", str)], signature="<queue>")
def mq_pause_queue(state, queue: str) -> dict:
    """Stop consuming a paused queue (the job engine's pause)."""
    stopped = stop_consuming(state.consumer, queue)
    if stopped:
        logger.info("worker_stopped_consuming queue=%s reason=paused", queue)
    return {"ok": f"stopped consuming {queue}" if stopped else f"not consuming {queue}"}


@control_command(args=[("queue", str)], signature="<queue>")
def mq_resume_queue(state, queue: str) -> dict:
    """Consume a resumed queue again, if this worker was started with it."""
    if queue not in configured_queues:
        return {"ok": f"{queue} is not one of this worker's queues"}
    state.consumer.add_task_queue(queue)
    return {"ok": f"consuming {queue}"}


@control_command(args=[("task_id", str)], signature="<task_id>")
def mq_terminate_job(state, task_id: str) -> dict:
    """Kill the process running a cancelled job's task, without remembering the id as revoked.

    Celery's own revoke would keep the id in the worker's revoked set; the
    engine gives every resend a new task id anyway, but a cancel has no
    reason to grow that set.
    """
    for request in list(worker_state.active_requests):
        if request.id == task_id:
            request.terminate(state.consumer.pool, signal="SIGTERM")
            logger.info("job_terminated task_id=%s", task_id)
            return {"ok": f"terminated {task_id}"}
    return {"ok": f"{task_id} is not running here"}


def _pool_size(consumer) -> int | None:
    pool = getattr(consumer, "pool", None)
    return getattr(pool, "num_processes", None) or getattr(pool, "limit", None)


class WorkerPresence(bootsteps.StartStopStep):
    """Writes this worker's presence record every JOBS_WORKER_PRESENCE_INTERVAL_S."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self.timer_entry = None
        self.started_at = time.time()

    def start(self, parent) -> None:
        self.publish(parent)
        self.timer_entry = parent.timer.call_repeatedly(
            settings.JOBS_WORKER_PRESENCE_INTERVAL_S, self.publish, (parent,)
        )

    def stop(self, parent) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None
        self._withdraw(parent)

    shutdown = stop

    def publish(self, parent) -> None:
        from jobs import broker

        record = {
            "name": parent.hostname,
            "pid": os.getpid(),
            "queues": consumed_queues(parent),
            "configured_queues": sorted(configured_queues),
            "concurrency": _pool_size(parent),
            "prefetch_multiplier": parent.app.conf.worker_prefetch_multiplier,
            "started_at": self.started_at,
            "seen_at": time.time(),
        }
        try:
            broker.broker_client().hset(
                PRESENCE_KEY, parent.hostname, json.dumps(record)
            )
        except Exception:  # the next beat tries again; readers see it as stale
            logger.warning("worker presence not written", exc_info=True)

    def _withdraw(self, parent) -> None:
        from jobs import broker

        try:
            broker.broker_client().hdel(PRESENCE_KEY, parent.hostname)
        except Exception:
            logger.warning("worker presence not withdrawn", exc_info=True)
