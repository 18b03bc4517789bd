"""The table of registered job types; the engine looks them up by name.

Kept apart from `jobs.registry` (which creates each type's Celery task from
the runtime) so that services can read the table without importing the
runtime that imports them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from jobs.context import JobFailure


@dataclass(frozen=True)
class JobType:
    name: str
    func: Callable[..., Any]
    queue: str = "default"
    priority: int = 5
    soft_time_limit_s: int = 300
    time_limit_s: int = 360
    max_retries: int | None = None  # None: settings.JOBS_DEFAULT_MAX_RETRIES
    retry_for: tuple[type[BaseException], ...] = (Exception,)
    staff_submittable: bool = False
    params_serializer: Any = None
    on_final_failure: Callable[[JobFailure], None] | None = None
    on_cancel: Callable[[JobFailure], None] | None = None
    # Extra fields of the job's task status (e.g. the original routes' document_id).
    status_fields: Callable[[Any], dict[str, Any]] | None = None
    description: str = ""
    task: Any = field(default=None, compare=False, repr=False)


_JOB_TYPES: dict[str, JobType] = {}


def job_type_add(job_type: JobType) -> None:
    """Put a job type in the table (registry use only)."""
    _JOB_TYPES[job_type.name] = job_type


def job_type_get(name: str) -> JobType:
    """The registered job type of that name; KeyError when there is none."""
    return _JOB_TYPES[name]


def job_type_list() -> list[JobType]:
    """Every registered job type, sorted by name."""
    return sorted(_JOB_TYPES.values(), key=lambda job_type: job_type.name)
