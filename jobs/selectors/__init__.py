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
    "job_active_exists",
    "job_active_for_each_target",
    "job_counts_by_status",
    "job_counts_by_type",
    "job_for_task_id",
    "job_get",
    "job_latest_for_target",
    "job_list",
    "job_list_failed",
    "job_list_for_target",
    "job_list_for_user",
    "job_stats",
    "job_task_ids",
    "job_type_stats",
    "job_waiting_for_target",
    "jobs_waiting_count",
    "paused_queue_names",
    "queue_consumers",
    "queue_get",
    "queue_list",
    "queue_names",
    "task_result_get",
    "worker_list",
    "worker_names_alive",
    "worker_presence_list",
]
