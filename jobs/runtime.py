"""What runs inside a worker: the job task base class and the heartbeat thread."""

import logging
import os
import socket
import threading
import time
import traceback
from typing import Any

from celery import Task
from celery import states
from celery.exceptions import Ignore
from celery.exceptions import Reject
from django.conf import settings
from django.db import close_old_connections

from jobs import services
from jobs.context import INLINE_WORKER_PREFIX
from jobs.context import JobContext
from jobs.errors import PERMANENT_ERRORS
from jobs.errors import JobNoLongerRunning
from jobs.errors import QueuePaused
from jobs.job_types import job_type_get

logger = logging.getLogger("jobs.events")


class _Heartbeat:
    """One daemon thread per worker process that touches the running job's row.

    A thread per process rather than per task: each thread holds its own
    database connection, and a new connection per job would cost more than
    the job itself for short ones.
    """

    def __init__(self) -> None:
        self.job_id: str | None = None
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def track(self, job_id: str) -> None:
        self.job_id = job_id
        if self._thread is None or self._pid != os.getpid():
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._beat_forever, daemon=True, name="job-heartbeat"
            )
            self._thread.start()

    def untrack(self) -> None:
        self.job_id = None

    def _beat_forever(self) -> None:
        while True:
            time.sleep(settings.JOBS_HEARTBEAT_INTERVAL_S)
            job_id = self.job_id
            if job_id is None:
                continue
            try:
                close_old_connections()
                services.job_heartbeat(job_id=job_id)
            except Exception:  # a missed beat must never end the thread
                logger.exception("heartbeat failed job_id=%s", job_id)


heartbeat = _Heartbeat()


class JobTask(Task):
    """Base of every job type's task: claim the row, run, record the outcome once."""

    abstract = True
    # The job row counts attempts and decides on retries; Celery's own
    # counter would refuse a retry the row allows (e.g. after a redelivery).
    max_retries = None

    def run_job(self, *, job_id: str, generation: int) -> Any:
        eager = bool(self.request.is_eager)
        worker = (
            f"{INLINE_WORKER_PREFIX}{socket.gethostname()}:{os.getpid()}"
            if eager
            else self.request.hostname
        )
        try:
            # An operator's explicit drain runs a paused queue too.
            job = services.job_claim(
                job_id=job_id,
                generation=generation,
                worker=worker,
                respect_pause=not eager,
            )
        except QueuePaused as paused:
            self._hold_paused_queue(str(paused))
        if job is None:
            raise Ignore()  # cancelled, finished, superseded or deleted: drop the message
        started = time.monotonic()
        progress = _ProgressRecorder(self, job, generation)
        job.report_progress = progress
        heartbeat.track(job_id)
        try:
            result = job_type_get(job.job_type).func(job)
        except JobNoLongerRunning:
            _log_outcome(job, "abandoned", started, worker)
            raise Ignore() from None
        except Exception as exc:
            self._record_failure(job, generation, exc, progress, started, worker)
            raise
        finally:
            heartbeat.untrack()
        if services.job_complete(job_id=job_id, generation=generation, result=result):
            progress.settle(states.SUCCESS, result)
            _log_outcome(job, "completed", started, worker)
        else:
            _log_outcome(job, "discarded", started, worker)
        return result

    def _record_failure(
        self,
        job: JobContext,
        generation: int,
        exc: Exception,
        progress: "_ProgressRecorder",
        started: float,
        worker: str,
    ) -> None:
        spec = job_type_get(job.job_type)
        recorded = services.job_record_failure(
            job_id=job.id,
            generation=generation,
            error=f"{type(exc).__name__}: {exc}",
            traceback_text=traceback.format_exc(),
            retryable=isinstance(exc, spec.retry_for)
            and not isinstance(exc, PERMANENT_ERRORS),
        )
        if recorded is None:
            _log_outcome(job, "discarded", started, worker, error=exc)
            return
        status, retry_in_s = recorded
        _log_outcome(job, status, started, worker, error=exc, retry_in_s=retry_in_s)
        if retry_in_s is None:
            progress.settle(states.FAILURE, exc)
            return
        progress.settle(states.RETRY, exc)
        raise self.retry(exc=exc, countdown=retry_in_s) from exc

    def _hold_paused_queue(self, queue: str) -> None:
        """Give the message back and make this worker stop consuming the paused queue.

        A worker can consume a paused queue again (`celery control
        add_consumer`); re-applying the pause stops it from taking and
        returning the same messages in a loop.
        """
        from jobs.services.control import worker_stop_consuming

        worker_stop_consuming(queue=queue, worker=self.request.hostname)
        logger.warning(
            "job_held job_id=%s queue=%s reason=queue-paused worker=%s",
            self.request.kwargs.get("job_id") if self.request.kwargs else None,
            queue,
            self.request.hostname,
        )
        time.sleep(settings.JOBS_PAUSED_REQUEUE_DELAY_S)
        raise Reject(f"queue {queue} is paused", requeue=True)


class _ProgressRecorder:
    """Writes a job's progress to its row, and as the Celery state PROGRESS."""

    def __init__(self, task: JobTask, job: JobContext, generation: int):
        self.task = task
        self.job = job
        self.generation = generation
        self.reported = False

    def __call__(
        self, percent: int, message: str, current: float, total: float
    ) -> bool:
        running = services.job_progress_report(
            job_id=self.job.id,
            percent=percent,
            message=message,
            generation=self.generation,
        )
        if running and not self.task.request.is_eager:
            self.task.update_state(
                task_id=self.task.request.id,
                state="PROGRESS",
                meta={
                    "job_id": self.job.id,
                    "current": current,
                    "total": total,
                    "percent": percent,
                    "message": message,
                },
            )
            self.reported = True
        return running

    def settle(self, state: str, outcome: Any) -> None:
        """Replace a stored PROGRESS state by the attempt's outcome.

        Job results live on the job row (ignore_result); only a job that
        wrote PROGRESS to the result backend has a state there to correct.
        """
        if self.reported:
            self.task.backend.store_result(
                self.task.request.id, outcome, state, request=self.task.request
            )


def _log_outcome(
    job: JobContext,
    status: str,
    started: float,
    worker: str,
    *,
    error: BaseException | None = None,
    retry_in_s: float | None = None,
) -> None:
    """The one log line of a job attempt's outcome (key=value, for log search)."""
    level = logging.INFO
    if status == "failed":
        level = logging.ERROR
    elif status == "retrying":
        level = logging.WARNING
    logger.log(
        level,
        "job_finished job_id=%s task_id=%s type=%s queue=%s status=%s attempt=%s "
        "duration_ms=%.1f worker=%s%s%s",
        job.id,
        job.task_id,
        job.job_type,
        job.queue,
        status,
        job.attempt,
        (time.monotonic() - started) * 1000,
        worker,
        f" retry_in_s={retry_in_s}" if retry_in_s is not None else "",
        f' error="{type(error).__name__}: {error}"' if error is not None else "",
    )
