"""Reads of the operator's view: the dashboard, failure groups, a job's story, its target.

One module per page or concern; import from here (`from jobs.selectors import ops`).
"""

from jobs.selectors.ops.dashboard import dashboard_charts_get
from jobs.selectors.ops.dashboard import dashboard_get
from jobs.selectors.ops.dashboard import dashboard_queue_list
from jobs.selectors.ops.dashboard import dashboard_stuck_jobs
from jobs.selectors.ops.dashboard import dashboard_worker_list
from jobs.selectors.ops.failures import failure_group_jobs
from jobs.selectors.ops.failures import failure_group_list
from jobs.selectors.ops.failures import failure_group_owners
from jobs.selectors.ops.failures import failure_group_preview
from jobs.selectors.ops.failures import failure_group_targets
from jobs.selectors.ops.signatures import SIGNATURE_RULES
from jobs.selectors.ops.signatures import SQLITE_SIGNATURE_FUNCTION
from jobs.selectors.ops.signatures import ErrorSignature
from jobs.selectors.ops.signatures import error_signature
from jobs.selectors.ops.signatures import error_type
from jobs.selectors.ops.story import job_attempt_list
from jobs.selectors.ops.story import job_lineage_get
from jobs.selectors.ops.story import job_next_retry_at
from jobs.selectors.ops.story import job_timeline_get
from jobs.selectors.ops.story import job_webhook_delivery_list
from jobs.selectors.ops.targets import file_kind
from jobs.selectors.ops.targets import files_to_free
from jobs.selectors.ops.targets import target_files
from jobs.selectors.ops.targets import target_get
from jobs.selectors.ops.targets import target_model_of
from jobs.selectors.ops.targets import target_owner_ids
from jobs.selectors.ops.targets import target_owner_path
from jobs.selectors.ops.targets import target_pks
from jobs.selectors.ops.targets import target_preview_list
from jobs.selectors.ops.webhooks import job_type_names
from jobs.selectors.ops.webhooks import webhook_endpoint_list
from jobs.selectors.ops.webhooks import webhook_owner_ids

__all__ = [
    "SIGNATURE_RULES",
    "SQLITE_SIGNATURE_FUNCTION",
    "dashboard_charts_get",
    "dashboard_get",
    "dashboard_queue_list",
    "dashboard_stuck_jobs",
    "dashboard_worker_list",
    "error_signature",
    "error_type",
    "ErrorSignature",
    "failure_group_jobs",
    "failure_group_list",
    "failure_group_owners",
    "failure_group_preview",
    "failure_group_targets",
    "file_kind",
    "files_to_free",
    "job_attempt_list",
    "job_lineage_get",
    "job_next_retry_at",
    "job_timeline_get",
    "job_type_names",
    "job_webhook_delivery_list",
    "target_files",
    "target_get",
    "target_model_of",
    "target_owner_ids",
    "target_owner_path",
    "target_pks",
    "target_preview_list",
    "webhook_endpoint_list",
    "webhook_owner_ids",
]
