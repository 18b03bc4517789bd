"""Job types register here; the engine looks them up by name and never imports them.

A media app declares a job type in its `tasks.py`::

    @register_job_type("photos.analyze", queue="medium", priority=5)
    def analyze(job: JobContext) -> dict:
        return services.photo_analyze(photo_id=int(job.target_id))

Registration creates the Celery task (named after the job type) that claims the
job row, runs the function and records the outcome.
"""

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from celery import shared_task


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
    description: str = ""
    task: Any = field(default=None, compare=False, repr=False)


_JOB_TYPES: dict[str, JobType] = {}


def register_job_type(
    name: str,
    *,
    queue: str = "default",
    priority: int = 5,
    soft_time_limit_s: int = 300,
    time_limit_s: int | None = None,
    max_retries: int | None = None,
    retry_for: tuple[type[BaseException], ...] = (Exception,),
    staff_submittable: bool = False,
    params_serializer: Any = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a job type and create its Celery task; returns the function unchanged."""
    from jobs.runtime import JobTask

    if not 0 <= priority <= 9:
        raise ValueError(f"priority of {name} must be 0-9, not {priority}")

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        hard_limit_s = time_limit_s or soft_time_limit_s + 60

        @shared_task(
            name=name,
            bind=True,
            base=JobTask,
            ignore_result=True,
            acks_late=True,
            reject_on_worker_lost=True,
            soft_time_limit=soft_time_limit_s,
            time_limit=hard_limit_s,
        )
        def job_task(self: JobTask, job_id: str, generation: int = 0) -> Any:
            return self.run_job(job_id=job_id, generation=generation)

        _JOB_TYPES[name] = JobType(
            name=name,
            func=func,
            queue=queue,
            priority=priority,
            soft_time_limit_s=soft_time_limit_s,
            time_limit_s=hard_limit_s,
            max_retries=max_retries,
            retry_for=retry_for,
            staff_submittable=staff_submittable,
            params_serializer=params_serializer,
            description=(func.__doc__ or "").strip().splitlines()[0]
            if func.__doc__
            else "",
            task=job_task,
        )
        return func

    return decorate


def job_type_get(name: str) -> JobType:
    """The registered job type of that name; KeyError when there is none."""
    return _JOB_TYPES[name]


def job_type_list() -> list[JobType]:
    """Every registered job type, sorted by name."""
    return sorted(_JOB_TYPES.values(), key=lambda job_type: job_type.name)
