"""Errors of the job engine; this module imports nothing else of `jobs`.

Job functions raise `PermanentJobError` to fail at once; callers of the
services catch `JobStateConflict`; the runtime tells the rest apart.
"""

from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError


class JobStateConflict(Exception):
    """The job exists but its state forbids the action (e.g. retrying a completed job)."""


class PermanentJobError(Exception):
    """Raised by a job to fail at once: retrying cannot help (bad input, missing file)."""


class QueuePaused(Exception):
    """The job's queue is paused: its message must go back to the broker."""


class JobNoLongerRunning(Exception):
    """The job was cancelled or superseded while it ran: stop, record nothing."""


# Errors no retry can mend: the job fails at once, whatever its retry policy.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    PermanentJobError,
    ValidationError,
    ObjectDoesNotExist,
    SoftTimeLimitExceeded,
)
