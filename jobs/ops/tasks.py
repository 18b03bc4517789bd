"""The webhook delivery job type and the sweep that catches outcomes the hook missed."""

from celery import shared_task

from jobs.context import JobContext
from jobs.registry import register_job_type
from jobs.schedules import Schedule
from jobs.schedules import register_schedule
from jobs.services import webhooks


@register_job_type(
    webhooks.WEBHOOK_JOB_TYPE,
    queue="default",
    priority=6,
    soft_time_limit_s=60,
    retry_for=(webhooks.WebhookUnavailable,),
)
def webhook(job: JobContext) -> dict:
    """Deliver one job-outcome event to one endpoint, signed; transient failures retry."""
    return webhooks.webhook_deliver(
        endpoint_id=int(job.target_id),
        job_id=job.params.get("job_id"),
        event=job.params["event"],
        event_id=job.params["event_id"],
        body=job.params["body"],
        attempt=job.attempt,
        is_last_attempt=job.is_last_attempt,
        delivery_job_id=job.id,
    )


@shared_task(name="jobs.webhooks_sweep", ignore_result=True)
def webhooks_sweep() -> int:
    """Queue webhook deliveries for outcomes the worker-side hook missed."""
    return webhooks.webhooks_sweep()


register_schedule(
    Schedule(
        name="jobs: webhook sweep",
        task="jobs.webhooks_sweep",
        every_s=60,
        description="Queue job-outcome webhooks the worker hook missed "
        "(watchdog failures, jobs run inline).",
    )
)
