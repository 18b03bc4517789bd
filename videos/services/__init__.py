"""Every write of the videos app. Import from here: `from videos import services`."""

from videos.services.analysis import video_analysis_mark_failed
from videos.services.analysis import video_analyze
from videos.services.common import ANALYZE_JOB_TYPE
from videos.services.common import HOUSEKEEPING_JOB_TYPE
from videos.services.common import METADATA_JOB_TYPE
from videos.services.common import PROXY_JOB_TYPE
from videos.services.common import RERUN_PRIORITY
from videos.services.common import THUMBNAIL_JOB_TYPE
from videos.services.housekeeping import videos_housekeeping
from videos.services.profiles import EDITABLE as PROFILE_FIELDS
from videos.services.profiles import profile_delete
from videos.services.profiles import profile_save
from videos.services.renditions import rendition_cancel
from videos.services.renditions import rendition_generate
from videos.services.renditions import rendition_mark_cancelled
from videos.services.renditions import rendition_mark_failed
from videos.services.renditions import rendition_request
from videos.services.renditions import renditions_reconcile
from videos.services.uploads import CHECKSUM_ALGORITHMS
from videos.services.uploads import upload_abort
from videos.services.uploads import upload_append
from videos.services.uploads import upload_check_open
from videos.services.uploads import upload_complete
from videos.services.uploads import upload_create
from videos.services.uploads import upload_direct
from videos.services.uploads import upload_expire
from videos.services.uploads import upload_part_put
from videos.services.uploads import uploads_expire
from videos.services.uploads import video_import
from videos.services.videos import JOB_NAMES
from videos.services.videos import VideoCreated
from videos.services.videos import video_create_from_file
from videos.services.videos import video_delete
from videos.services.videos import video_mark_failed
from videos.services.videos import video_metadata_read
from videos.services.videos import video_processing_submit
from videos.services.videos import video_reprocess
from videos.services.videos import video_thumbnail_make
from videos.services.videos import video_thumbnail_mark_failed
from videos.services.videos import video_update

__all__ = [
    "ANALYZE_JOB_TYPE",
    "CHECKSUM_ALGORITHMS",
    "HOUSEKEEPING_JOB_TYPE",
    "JOB_NAMES",
    "METADATA_JOB_TYPE",
    "PROFILE_FIELDS",
    "PROXY_JOB_TYPE",
    "RERUN_PRIORITY",
    "THUMBNAIL_JOB_TYPE",
    "VideoCreated",
    "profile_delete",
    "profile_save",
    "rendition_cancel",
    "rendition_mark_cancelled",
    "rendition_generate",
    "rendition_mark_failed",
    "rendition_request",
    "renditions_reconcile",
    "upload_abort",
    "upload_append",
    "upload_check_open",
    "upload_complete",
    "upload_create",
    "upload_direct",
    "upload_expire",
    "upload_part_put",
    "uploads_expire",
    "video_analysis_mark_failed",
    "video_analyze",
    "video_create_from_file",
    "video_delete",
    "video_mark_failed",
    "video_import",
    "video_metadata_read",
    "video_processing_submit",
    "video_reprocess",
    "video_thumbnail_make",
    "video_thumbnail_mark_failed",
    "video_update",
    "videos_housekeeping",
]
