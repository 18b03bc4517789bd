"""Job types and the schedule of the videos app: thin wrappers around services.

Metadata, thumbnail and proxy run on the `video` queue, as the original's
video tasks did (its worker: prefetch 1, restarted after 10 tasks); the
proxy has the original's limits, 55 min soft and 1 h hard. The analysis
runs on `low`: the original gave it a queue of its own (cv_analysis), which
the project's fixed queue list (JOBS_QUEUES) does not have; `low` keeps its
long decode-and-OCR passes off the single-slot video worker, behind
user-facing work, on the long-jobs worker where the captures analyser
already runs.
"""

from botocore.exceptions import BotoCoreError
from botocore.exceptions import ClientError

from jobs.context import JobContext
from jobs.context import JobFailure
from jobs.registry import register_job_type
from jobs.schedules import Schedule
from jobs.schedules import register_schedule
from videos import selectors
from videos import services

# Storage and disk trouble may pass; what a file's content does never does
# (the services raise PermanentJobError for it).
TRANSIENT = (OSError, BotoCoreError, ClientError)


def _metadata_failed(failure: JobFailure) -> None:
    services.video_mark_failed(video_id=failure.target_id, error=failure.error)


def _thumbnail_failed(failure: JobFailure) -> None:
    services.video_thumbnail_mark_failed(
        video_id=failure.target_id, error=failure.error
    )


def _proxy_failed(failure: JobFailure) -> None:
    services.rendition_mark_failed(
        rendition_id=int(failure.target_id), error=failure.error
    )


def _proxy_cancelled(failure: JobFailure) -> None:
    services.rendition_mark_cancelled(
        rendition_id=int(failure.target_id), reason=failure.error
    )


def _analysis_failed(failure: JobFailure) -> None:
    services.video_analysis_mark_failed(video_id=failure.target_id, error=failure.error)


@register_job_type(
    services.METADATA_JOB_TYPE,
    queue="video",
    priority=7,
    soft_time_limit_s=300,
    time_limit_s=360,
    retry_for=TRANSIENT,
    on_final_failure=_metadata_failed,
    status_fields=selectors.video_job_status_fields,
)
def metadata(job: JobContext) -> dict:
    """Read the stored original's metadata again (duration, size, fps, codecs, rotation...)."""
    return services.video_metadata_read(video_id=job.target_id)


@register_job_type(
    services.THUMBNAIL_JOB_TYPE,
    queue="video",
    priority=7,
    soft_time_limit_s=300,
    time_limit_s=360,
    retry_for=TRANSIENT,
    on_final_failure=_thumbnail_failed,
    status_fields=selectors.video_job_status_fields,
)
def thumbnail(job: JobContext) -> dict:
    """Make the poster (the exact frame at `at_s`, default 10 %) and the contact sheet."""
    return services.video_thumbnail_make(
        video_id=job.target_id, at_s=job.params.get("at_s")
    )


@register_job_type(
    services.PROXY_JOB_TYPE,
    queue="video",
    priority=5,
    soft_time_limit_s=55 * 60,
    time_limit_s=60 * 60,
    max_retries=3,
    retry_for=TRANSIENT,
    on_final_failure=_proxy_failed,
    on_cancel=_proxy_cancelled,
    status_fields=selectors.video_job_status_fields,
)
def proxy(job: JobContext) -> dict:
    """Make one rendition (by default the 480p/10 fps proxy) with ffmpeg; copy or skip when it can."""
    return services.rendition_generate(
        rendition_id=int(job.target_id), job_id=job.id, progress=job.progress
    )


@register_job_type(
    services.ANALYZE_JOB_TYPE,
    queue="low",
    priority=3,
    soft_time_limit_s=55 * 60,
    time_limit_s=60 * 60,
    retry_for=TRANSIENT,
    on_final_failure=_analysis_failed,
    status_fields=selectors.video_job_status_fields,
)
def analyze(job: JobContext) -> dict:
    """Scene cuts and sampled frames through the captures analyser, into the video's timeline."""
    return services.video_analyze(
        video_id=job.target_id, progress=job.progress, timeout_s=55 * 60
    )


@register_job_type(
    services.HOUSEKEEPING_JOB_TYPE,
    queue="maintenance",
    priority=2,
    soft_time_limit_s=600,
)
def housekeeping(job: JobContext) -> dict:
    """Expire abandoned uploads, settle renditions whose job ended unseen, sweep scratch space."""
    return services.videos_housekeeping()


register_schedule(
    Schedule(
        name="videos: housekeeping",
        job_type=services.HOUSEKEEPING_JOB_TYPE,
        every_s=3600,
        description="Expire abandoned video uploads (deleting their parts), settle "
        "renditions cancelled while queued, remove stale scratch folders.",
    )
)
