"""The photos job types: ids in, one idempotent service call, routing as the original.

EXIF and presets run on `high`, analysis on `medium`, grouping and exports
on `low`. Storage errors (OSError) are retried; a file the pipeline refuses
fails at once with the reason (PermanentJobError).
"""

from typing import Any

from jobs.context import JobContext
from jobs.context import JobFailure
from jobs.registry import register_job_type
from photos import selectors
from photos import services

TRANSIENT = (OSError, ConnectionError, TimeoutError)


def _photo_failed(failure: JobFailure) -> None:
    services.photo_mark_failed(photo_id=int(failure.target_id), error=failure.error)


def _export_failed(failure: JobFailure) -> None:
    services.export_mark_failed(export_id=int(failure.target_id), error=failure.error)


def _photo_fields(job: Any) -> dict[str, Any]:
    return {"photo_id": int(job.object_id) if job.object_id else None}


def _session_fields(job: Any) -> dict[str, Any]:
    return {"session_id": int(job.object_id) if job.object_id else None}


def _export_fields(job: Any) -> dict[str, Any]:
    return {"export_id": int(job.object_id) if job.object_id else None}


@register_job_type(
    selectors.EXIF_JOB_TYPE,
    queue="high",
    soft_time_limit_s=30,
    retry_for=TRANSIENT,
    status_fields=_photo_fields,
)
def exif(job: JobContext) -> dict:
    """Read a photo's EXIF into its key fields."""
    return services.photo_exif_read(photo_id=int(job.target_id), params=job.params)


@register_job_type(
    selectors.ANALYZE_JOB_TYPE,
    queue="medium",
    soft_time_limit_s=120,
    retry_for=TRANSIENT,
    on_final_failure=_photo_failed,
    status_fields=_photo_fields,
)
def analyze(job: JobContext) -> dict:
    """Analyse a photo: EXIF, quality, context, preset selection; thumbnail and preview."""
    return services.photo_analyze(
        photo_id=int(job.target_id), params=job.params, progress=job.progress
    )


@register_job_type(
    selectors.GROUP_JOB_TYPE,
    queue="low",
    soft_time_limit_s=120,
    retry_for=TRANSIENT,
    status_fields=_session_fields,
)
def group(job: JobContext) -> dict:
    """Group a session's similar photos and mark the best of each group."""
    return services.session_group(session_id=int(job.target_id))


@register_job_type(
    selectors.APPLY_PRESET_JOB_TYPE,
    queue="high",
    soft_time_limit_s=120,
    retry_for=TRANSIENT,
    status_fields=_photo_fields,
)
def apply_preset(job: JobContext) -> dict:
    """Render a photo's developed preview and write its XMP sidecar."""
    return services.photo_preset_apply(
        photo_id=int(job.target_id), preset_id=int(job.params["preset_id"])
    )


@register_job_type(
    selectors.EXPORT_JOB_TYPE,
    queue="low",
    soft_time_limit_s=300,
    retry_for=TRANSIENT,
    on_final_failure=_export_failed,
    status_fields=_export_fields,
)
def export(job: JobContext) -> dict:
    """Render an export of a photo and store its file."""
    return services.export_render(export_id=int(job.target_id))
