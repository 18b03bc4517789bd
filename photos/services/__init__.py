"""Every write of the photos app. Import from here: `from photos import services`."""

from photos.services.analysis import photo_analyze
from photos.services.analysis import photo_exif_read
from photos.services.analysis import photo_mark_failed
from photos.services.analysis import session_group_when_finished
from photos.services.exports import export_create
from photos.services.exports import export_delete
from photos.services.exports import export_mark_failed
from photos.services.exports import export_render
from photos.services.grouping import session_group
from photos.services.grouping import session_group_submit
from photos.services.imports import FileOutcome
from photos.services.imports import ImportResult
from photos.services.imports import photo_delete
from photos.services.imports import photo_import
from photos.services.imports import photos_import_files
from photos.services.imports import photos_upload
from photos.services.imports import size_check
from photos.services.presets import photo_preset_apply
from photos.services.presets import photo_preset_choose
from photos.services.presets import preset_create
from photos.services.presets import preset_delete
from photos.services.presets import preset_update
from photos.services.queue import BatchSubmission
from photos.services.queue import photo_jobs_purge
from photos.services.queue import photo_queues_pause
from photos.services.queue import photo_queues_resume
from photos.services.queue import photo_submit
from photos.services.queue import photos_submit_batch
from photos.services.queue import queue_name_resolve
from photos.services.queue import session_submit
from photos.services.sessions import photo_update
from photos.services.sessions import session_create
from photos.services.sessions import session_delete
from photos.services.sessions import session_get_or_create
from photos.services.sessions import session_update

__all__ = [
    "BatchSubmission",
    "FileOutcome",
    "ImportResult",
    "export_create",
    "export_delete",
    "export_mark_failed",
    "export_render",
    "photo_analyze",
    "photo_delete",
    "photo_exif_read",
    "photo_import",
    "photo_jobs_purge",
    "photo_mark_failed",
    "photo_preset_apply",
    "photo_preset_choose",
    "photo_queues_pause",
    "photo_queues_resume",
    "photo_submit",
    "photo_update",
    "photos_import_files",
    "photos_upload",
    "photos_submit_batch",
    "preset_create",
    "preset_delete",
    "preset_update",
    "queue_name_resolve",
    "session_create",
    "session_delete",
    "session_get_or_create",
    "session_group",
    "session_group_submit",
    "session_group_when_finished",
    "session_submit",
    "session_update",
    "size_check",
]
