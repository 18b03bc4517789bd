"""What runs inside a worker: the job task base class, the job context, heartbeats."""

import logging
import os
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any

from celery import Task
from celery import states
from celery.exceptions import Ignore
from celery.exceptions import Reject
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError
from django.db import close_old_connections

from jobs.errors import PermanentJobError
from jobs.errors import QueuePaused

logger = logging.getLogger(__name__)

# The worker name of a job run in-process (`jobs_drain`): no Celery worker
# answers pings under it, so the watchdog judges it by its heartbeat alone.
INLINE_WORKER_PREFIX = "inline@"

# Errors no retry can mend: fail the job at once.
PERMANENT_ERRORS = (
    PermanentJobError,
    ValidationError,
    ObjectDoesNotExist,
    SoftTimeLimitExceeded,
)


@dataclass
class JobContext:
    """What a job function gets: its row's identity, params and target, and progress."""

    id: str
    job_type: str
    queue: str
    params: dict
    target_type: str | None
    target_id: str
    attempt: int
    max_retries: int
    task: Any = None
    reported_progress: bool = False

    def progress(self, current: float, total: float = 100, message: str = "") -> None:
        """Record progress on the job row and as the Celery state PROGRESS."""
        from jobs import services

        percent = max(0, min(100, int(current * 100 / total))) if total else 0
        services.job_progress_report(job_id=self.id, percent=percent, message=message)
        if self.task is not None and not self.task.request.is_eager:
            self.task.update_state(
                task_id=self.id,
                state="PROGRESS",
                meta={
                    "current": current,
                    "total": total,
                    "percent": percent,
                    "message": message,
                },
            )
            self.reported_progress = True


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
        from jobs import services

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
        from jobs import services
        from jobs.registry import job_type_get

        eager = bool(self.request.is_eager)
        try:
            job = services.job_claim(
                job_id=job_id,
                generation=generation,
                worker=(
                    f"{INLINE_WORKER_PREFIX}{socket.gethostname()}:{os.getpid()}"
                    if eager
                    else self.request.hostname
                ),
                # An operator's explicit drain runs a paused queue too.
                respect_pause=not eager,
            )
        except QueuePaused as paused:
            # A message taken just before its queue was paused goes back to
            # Redis; the pause also stopped this worker consuming from it.
            time.sleep(1)
            raise Reject(f"queue {paused} is paused", requeue=True) from None
        if job is None:
            raise Ignore()  # cancelled, finished, superseded or deleted: drop the message
        job.task = self
        spec = job_type_get(job.job_type)
        heartbeat.track(job_id)
        try:
            result = spec.func(job)
        except Exception as exc:
            retryable = isinstance(exc, spec.retry_for) and not isinstance(
                exc, PERMANENT_ERRORS
            )
            retry_in_s = services.job_record_failure(
                job_id=job_id,
                generation=generation,
                error=f"{type(exc).__name__}: {exc}",
                traceback_text=traceback.format_exc(),
                retryable=retryable,
            )
            self._leave_progress_state(
                job, states.RETRY if retry_in_s is not None else states.FAILURE, exc
            )
            if retry_in_s is not None:
                raise self.retry(exc=exc, countdown=retry_in_s) from exc
            raise
        finally:
            heartbeat.untrack()
        if services.job_complete(job_id=job_id, generation=generation, result=result):
            self._leave_progress_state(job, states.SUCCESS, result)
        return result

    def _leave_progress_state(self, job: JobContext, state: str, outcome: Any) -> None:
        """Replace a stored PROGRESS state by the attempt's outcome.

        Job results live on the job row (ignore_result); only a job that
        wrote PROGRESS to the result backend has a state there to correct.
        """
        if job.reported_progress:
            self.backend.store_result(job.id, outcome, state, request=self.request)
