"""The progress history kept for a job's timeline: phase changes and each tenth of the way.

A job may report progress hundreds of times; its timeline keeps a report
when the message changes shape (digits aside: "page 3 of 9" and "page 4 of
9" are one phase) or the percentage enters a new tenth, and at most
OPS_PROGRESS_HISTORY_MAX reports per send of the job. The decision is made in
the worker process from what it last kept, so a report that is not kept
costs no query.
"""

import logging
import re
import threading

from django.conf import settings

from jobs.models import JobProgressStep

logger = logging.getLogger(__name__)

# Sends remembered per process (each running job has one); the oldest go first.
REMEMBERED_SENDS_MAX = 1000
_DIGITS = re.compile(r"\d+")
_lock = threading.Lock()
_last_kept: dict[str, tuple[int, str, int]] = {}


def progress_step_record(
    *, task_id: str, job_id: str, percent: int, message: str
) -> JobProgressStep | None:
    """Keep this progress report in the job's history if it starts a new phase or tenth; else None."""
    shape = _DIGITS.sub("#", message or "")
    tenth = max(0, min(100, int(percent))) // 10
    with _lock:
        previous = _last_kept.get(task_id)
        if previous is not None and previous[:2] == (tenth, shape):
            return None
        kept = previous[2] + 1 if previous else 1
        if kept > settings.OPS_PROGRESS_HISTORY_MAX:
            return None
        _last_kept[task_id] = (tenth, shape, kept)
        while len(_last_kept) > REMEMBERED_SENDS_MAX:
            _last_kept.pop(next(iter(_last_kept)))
    return JobProgressStep.objects.create(
        job_id=job_id,
        task_id=task_id,
        percent=max(0, min(100, int(percent))),
        message=(message or "")[:255],
    )


def progress_memory_forget() -> None:
    """Forget what this process kept (tests)."""
    with _lock:
        _last_kept.clear()
