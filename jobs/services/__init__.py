"""Every write of the job engine. Import from here: `from jobs import services`."""

from jobs.services.bulk import bulk_action_record
from jobs.services.bulk import failure_group_cancel
from jobs.services.bulk import failure_group_purge
from jobs.services.bulk import failure_group_retry
from jobs.services.bulk import jobs_fail
from jobs.services.bulk import jobs_rerun
from jobs.services.dispatch import jobs_send_on_commit
from jobs.services.drain import jobs_drain
from jobs.services.drain import jobs_waiting_count
from jobs.services.execution import job_claim
from jobs.services.execution import job_complete
from jobs.services.execution import job_heartbeat
from jobs.services.execution import job_progress_report
from jobs.services.execution import job_record_failure
from jobs.services.execution import retry_delay_s
from jobs.services.failure import task_results_settle
from jobs.services.lifecycle import job_cancel
from jobs.services.lifecycle import job_record_revoked
from jobs.services.lifecycle import job_retry
from jobs.services.lifecycle import task_revoke
from jobs.services.maintenance import jobs_delete_finished
from jobs.services.maintenance import metrics_snapshot_take
from jobs.services.maintenance import watchdog_run
from jobs.services.queues import jobs_purge
from jobs.services.queues import queue_pause
from jobs.services.queues import queue_purge
from jobs.services.queues import queue_resume
from jobs.services.queues import queue_validate
from jobs.services.schedules import schedules_setup
from jobs.services.submission import job_run_now
from jobs.services.submission import job_submit
from jobs.services.submission import job_submit_batch
from jobs.services.submission import job_submit_or_get
from jobs.services.submission import job_submit_periodic
from jobs.services.webhooks import job_outcome_notify
from jobs.services.webhooks import webhook_deliver
from jobs.services.webhooks import webhook_endpoint_create
from jobs.services.webhooks import webhook_endpoint_rotate_secret
from jobs.services.webhooks import webhook_endpoint_update
from jobs.services.webhooks import webhooks_sweep

__all__ = [
    "bulk_action_record",
    "failure_group_cancel",
    "failure_group_purge",
    "failure_group_retry",
    "job_cancel",
    "job_claim",
    "job_complete",
    "job_heartbeat",
    "job_outcome_notify",
    "job_progress_report",
    "job_record_failure",
    "job_record_revoked",
    "job_retry",
    "job_run_now",
    "job_submit",
    "job_submit_batch",
    "job_submit_or_get",
    "job_submit_periodic",
    "jobs_delete_finished",
    "jobs_drain",
    "jobs_fail",
    "jobs_purge",
    "jobs_rerun",
    "jobs_send_on_commit",
    "jobs_waiting_count",
    "metrics_snapshot_take",
    "queue_pause",
    "queue_purge",
    "queue_resume",
    "queue_validate",
    "retry_delay_s",
    "schedules_setup",
    "task_results_settle",
    "task_revoke",
    "watchdog_run",
    "webhook_deliver",
    "webhook_endpoint_create",
    "webhook_endpoint_rotate_secret",
    "webhook_endpoint_update",
    "webhooks_sweep",
]
