"""Every write of the captures app. Import from here: `from captures import services`."""

from captures.services.cleanup import capture_delete
from captures.services.cleanup import captures_cleanup
from captures.services.devices import device_authenticate
from captures.services.devices import device_create
from captures.services.devices import device_for_key
from captures.services.devices import device_rotate_key
from captures.services.devices import device_update
from captures.services.ingest import IngestResult
from captures.services.ingest import capture_ingest
from captures.services.processing import ANALYZE_JOB_TYPE
from captures.services.processing import CLEANUP_JOB_TYPE
from captures.services.processing import PROCESS_PENDING_JOB_TYPE
from captures.services.processing import capture_analyze
from captures.services.processing import capture_analyze_now
from captures.services.processing import capture_analyze_result
from captures.services.processing import capture_mark_failed
from captures.services.processing import capture_reprocess
from captures.services.processing import captures_process_pending
from captures.services.processing import captures_process_pending_submit
from captures.services.processing import image_analyze

__all__ = [
    "ANALYZE_JOB_TYPE",
    "CLEANUP_JOB_TYPE",
    "PROCESS_PENDING_JOB_TYPE",
    "IngestResult",
    "capture_analyze",
    "capture_analyze_now",
    "capture_analyze_result",
    "capture_delete",
    "capture_ingest",
    "capture_mark_failed",
    "capture_reprocess",
    "captures_cleanup",
    "captures_process_pending",
    "captures_process_pending_submit",
    "device_authenticate",
    "device_create",
    "device_for_key",
    "device_rotate_key",
    "device_update",
    "image_analyze",
]
