"""Errors a caller of the job services must tell apart from bad input."""


class JobStateConflict(Exception):
    """The job exists but its state forbids the action (e.g. retrying a completed job)."""


class PermanentJobError(Exception):
    """Raised by a job to fail at once: retrying cannot help."""


class QueuePaused(Exception):
    """The job's queue is paused: its message must go back to the broker."""
