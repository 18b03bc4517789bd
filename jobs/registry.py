"""Job types register here; the engine looks them up by name and never imports them.

A media app declares a job type in its `tasks.py`::

    @register_job_type(
        "photos.analyze",
        queue="medium",
        on_final_failure=lambda failure: services.photo_mark_failed(
            photo_id=int(failure.target_id), error=failure.error
        ),
    )
    def analyze(job: JobContext) -> dict:
        return services.photo_analyze(photo_id=int(job.target_id))

Registration creates the Celery task (named after the job type) that claims the
job row, runs the function and records the outcome.
"""

from collections.abc import Callable
from typing import Any

from celery import shared_task

from jobs.context import JobFailure
from jobs.job_types import JobType
from jobs.job_types import job_type_add
from jobs.job_types import job_type_get
from jobs.job_types import job_type_list
from jobs.runtime import JobTask

__all__ = ["JobType", "job_type_get", "job_type_list", "register_job_type"]


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
    on_final_failure: Callable[[JobFailure], None] | None = None,
    on_cancel: Callable[[JobFailure], None] | None = None,
    status_fields: Callable[[Any], dict[str, Any]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a job type and create its Celery task; returns the function unchanged.

    `on_final_failure` is called once, by the engine, when a job of this type
    fails for good: out of attempts, a permanent error, redelivered past its
    limit, or failed by the watchdog. It runs in the transaction that marks
    the job failed. `on_cancel` is called the same way when the job is
    cancelled (by a user, a purge, or a Celery revoke); its `error` says by
    whom. `status_fields(job)` adds fields of the type's own to the
    job's task status (`/api/v1/tasks/{id}`), e.g. an original route's ids.
    """
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

        job_type_add(
            JobType(
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
                on_final_failure=on_final_failure,
                on_cancel=on_cancel,
                status_fields=status_fields,
                description=(func.__doc__ or "").strip().splitlines()[0]
                if func.__doc__
                else "",
                task=job_task,
            )
        )
        return func

    return decorate
