"""What a job function is given, and what a final-failure hook is given.

This module imports nothing else of `jobs`, so any part of the engine or of
a media app can import it without a cycle.
"""

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

from jobs.errors import JobNoLongerRunning

# The worker name of a job run in-process (`jobs_drain`, a sync request): no
# Celery worker answers for it, so the watchdog judges it by its heartbeat.
INLINE_WORKER_PREFIX = "inline@"


def progress_percent(current: float, total: float) -> int:
    """The one progress formula: current/total as a whole percent, clamped to 0-100."""
    if not total:
        return 0
    return max(0, min(100, int(current * 100 / total)))


# (percent, message, current, total) -> False when the job is no longer running.
ProgressReporter = Callable[[int, str, float, float], bool]


@dataclass
class JobContext:
    """A running job: its row's identity, params and target, and progress reporting."""

    id: str
    job_type: str
    queue: str
    params: dict
    target_type: str | None
    target_id: str
    attempt: int
    max_retries: int
    task_id: str = ""
    report_progress: ProgressReporter | None = field(default=None, repr=False)

    @property
    def is_last_attempt(self) -> bool:
        """True when a failure now fails the job for good."""
        return self.attempt > self.max_retries

    def progress(self, current: float, total: float = 100, message: str = "") -> None:
        """Record progress on the job row; raises JobNoLongerRunning once it was cancelled.

        Long jobs report progress often, so a cancel reaches them at their
        next report even where no signal can (a C library holding the GIL).
        """
        if self.report_progress is None:
            return
        percent = progress_percent(current, total)
        if not self.report_progress(percent, message, current, total):
            raise JobNoLongerRunning(f"job {self.id} is no longer running")


@dataclass(frozen=True)
class JobFailure:
    """A job that failed for good, as an `on_final_failure` hook receives it."""

    job_id: str
    job_type: str
    target_type: str | None
    target_id: str
    params: dict
    error: str
    attempts: int
