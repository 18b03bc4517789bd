"""Every read of the job engine. Import from here: `from jobs import selectors`.

Other apps read the jobs table only through these.
"""

from jobs.selectors.jobs import WAITING_STATUSES
from jobs.selectors.jobs import job_active_exists
from jobs.selectors.jobs import job_active_for_each_target
from jobs.selectors.jobs import job_counts_by_status
from jobs.selectors.jobs import job_counts_by_type
from jobs.selectors.jobs import job_for_task_id
from jobs.selectors.jobs import job_get
from jobs.selectors.jobs import job_latest_for_target
from jobs.selectors.jobs import job_list
from jobs.selectors.jobs import job_list_failed
from jobs.selectors.jobs import job_list_for_target
from jobs.selectors.jobs import job_list_for_user
from jobs.selectors.jobs import job_task_ids
from jobs.selectors.jobs import job_type_stats
from jobs.selectors.jobs import job_waiting_for_target
from jobs.selectors.jobs import jobs_waiting_count
from jobs.selectors.jobs import task_result_get
from jobs.selectors.ops import dashboard_charts_get
from jobs.selectors.ops import dashboard_get
from jobs.selectors.ops import error_signature
from jobs.selectors.ops import failure_group_jobs
from jobs.selectors.ops import failure_group_list
from jobs.selectors.ops import failure_group_preview
from jobs.selectors.ops import failure_group_targets
from jobs.selectors.ops import job_attempt_list
from jobs.selectors.ops import job_lineage_get
from jobs.selectors.ops import job_next_retry_at
from jobs.selectors.ops import job_timeline_get
from jobs.selectors.ops import job_webhook_delivery_list
from jobs.selectors.ops import target_files
from jobs.selectors.ops import target_get
from jobs.selectors.ops import target_owner_path
from jobs.selectors.ops import target_preview_list
from jobs.selectors.ops import webhook_owner_ids
from jobs.selectors.queues import job_stats
from jobs.selectors.queues import paused_queue_names
from jobs.selectors.queues import queue_get
from jobs.selectors.queues import queue_list
from jobs.selectors.queues import queue_names
from jobs.selectors.workers import queue_consumers
from jobs.selectors.workers import worker_list
from jobs.selectors.workers import worker_names_alive
from jobs.selectors.workers import worker_presence_list

__all__ = [
    "WAITING_STATUSES",
    "dashboard_charts_get",
    "dashboard_get",
    "error_signature",
    "failure_group_jobs",
    "failure_group_list",
    "failure_group_preview",
    "failure_group_targets",
    "job_active_exists",
    "job_active_for_each_target",
    "job_attempt_list",
    "job_counts_by_status",
    "job_counts_by_type",
    "job_for_task_id",
    "job_get",
    "job_latest_for_target",
    "job_lineage_get",
    "job_list",
    "job_list_failed",
    "job_list_for_target",
    "job_list_for_user",
    "job_next_retry_at",
    "job_stats",
    "job_task_ids",
    "job_timeline_get",
    "job_type_stats",
    "job_waiting_for_target",
    "job_webhook_delivery_list",
    "jobs_waiting_count",
    "paused_queue_names",
    "queue_consumers",
    "queue_get",
    "queue_list",
    "queue_names",
    "target_files",
    "target_get",
    "target_owner_path",
    "target_preview_list",
    "task_result_get",
    "webhook_owner_ids",
    "worker_list",
    "worker_names_alive",
    "worker_presence_list",
]
