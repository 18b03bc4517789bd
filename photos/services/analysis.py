"""The analysis job's work: EXIF, quality, context, hash, preset, thumbnail and preview."""

import logging
import time
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs import services as job_services
from jobs.errors import PermanentJobError
from jobs.models import ProcessingJob
from photos import analysis
from photos import exif as exif_module
from photos import export as export_module
from photos import formats
from photos import presets as preset_rules
from photos import quality
from photos import selectors
from photos.errors import PhotoError
from photos.models import Photo
from photos.models import PhotoSession
from photos.services.storage import derived_store
from photos.services.storage import files_delete
from photos.services.storage import original_bytes

logger = logging.getLogger(__name__)

Progress = Callable[..., None]


def _no_progress(current: float, total: float = 100, message: str = "") -> None:
    return None


def _timezone(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or settings.PHOTOS_DEFAULT_TIMEZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise PermanentJobError(f"unknown time zone {name!r}") from exc


def _refused(exc: PhotoError) -> PermanentJobError:
    return PermanentJobError(f"{exc.code}: {exc.detail}")


def _exif_fields(photo: Photo, data: exif_module.ExifData) -> dict[str, Any]:
    fields = {
        "exif": data.fields,
        "camera_make": data.camera_make[:100],
        "camera_model": data.camera_model[:100],
        "lens": data.lens[:200],
        "focal_length_mm": data.focal_length_mm,
        "aperture_f": data.aperture_f,
        "shutter_s": data.shutter_s,
        "iso": data.iso,
        "gps_lat": data.gps_lat,
        "gps_lon": data.gps_lon,
        "flash_fired": data.flash_fired,
        "exif_read_at": timezone.now(),
    }
    # A time the owner corrected through the API outranks the camera's clock.
    if photo.taken_at_source != "client":
        fields.update(
            taken_at=data.taken_at,
            taken_at_source="exif" if data.taken_at else "",
            taken_at_offset_known=data.taken_at_offset_known,
        )
    return fields


def photo_exif_read(*, photo_id: int, params: dict | None = None) -> dict[str, Any]:
    """Read the photo's EXIF into its key fields (no pixel is decoded). Idempotent."""
    photo = Photo.objects.get(pk=photo_id)
    data = original_bytes(photo)
    tz = _timezone((params or {}).get("timezone"))
    try:
        photo_format = formats.sniff_format(data)
    except PhotoError as exc:
        raise _refused(exc) from exc
    exif_data = exif_module.read_exif(data, photo_format=photo_format, default_tz=tz)
    Photo.objects.filter(pk=photo_id).update(**_exif_fields(photo, exif_data))
    return {
        "photo_id": photo_id,
        "taken_at": exif_data.taken_at.isoformat() if exif_data.taken_at else None,
        "camera": f"{exif_data.camera_make} {exif_data.camera_model}".strip(),
        "has_gps": exif_data.gps_lat is not None,
    }


def _renditions_store(photo: Photo, decoded: formats.DecodedPhoto) -> list[str]:
    """Thumbnail and preview, made once: the names come from the id, the write is conditional."""
    if photo.thumbnail and photo.preview:
        return []
    thumbnail, preview = export_module.thumbnail_and_preview_from(decoded)
    stored = {
        "thumbnail": derived_store(
            name=f"photos/thumbnails/{photo.pk}.jpg", data=thumbnail.data
        ),
        "preview": derived_store(
            name=f"photos/previews/{photo.pk}.jpg", data=preview.data
        ),
    }
    kept = []
    for field_name, name in stored.items():
        written = Photo.objects.filter(pk=photo.pk, **{field_name: ""}).update(
            **{field_name: name}
        )
        if written:
            kept.append(name)
        elif name != getattr(photo, field_name).name:
            files_delete([name])  # a concurrent run stored one first: keep that
    return kept


def _analysis_fields(photo: Photo, result: analysis.PhotoAnalysis) -> dict[str, Any]:
    measured = result.quality
    quality_json = result.as_json()["quality"]
    fields = {
        **_exif_fields(photo, result.exif),
        "status": Photo.Status.ANALYZED,
        "error_message": "",
        "width": result.width,
        "height": result.height,
        "orientation": result.exif.orientation,
        "sharpness": measured.sharpness,
        "exposure_ev": measured.exposure_ev,
        "noise": measured.noise,
        "contrast": measured.contrast,
        "faces": measured.faces,
        "score": measured.score,
        "quality": quality_json,
        "context_labels": result.labels,
        "context_index": "\n" + "\n".join(result.labels) + "\n"
        if result.labels
        else "",
        "phash": result.phash,
        "analyzed_at": timezone.now(),
    }
    if not photo.preset_chosen_by_user:
        fields["preset_id"] = result.preset
    return fields


def photo_analyze(
    *, photo_id: int, params: dict | None = None, progress: Progress | None = None
) -> dict[str, Any]:
    """Analyse a photo (the original's process_photo): EXIF, quality, context, preset.

    One decode at preview size serves the analysis (brought to 640 px), the
    thumbnail and the preview; those two are made once. Idempotent: a rerun
    recomputes the same fields. Runs outside any transaction; the final
    write is one UPDATE. Files the pipeline refuses raise PermanentJobError
    with the reason. With params `apply_preset`, the selected preset is
    then applied (photos.apply_preset); once no photo of the session waits
    for analysis, the session's grouping is queued.
    """
    params = params or {}
    progress = progress or _no_progress
    started = time.perf_counter()
    stages: dict[str, float] = {}

    def lap(stage: str, since: float) -> float:
        now = time.perf_counter()
        stages[stage] = round((now - since) * 1000, 2)
        return now

    photo = Photo.objects.get(pk=photo_id)
    tz = _timezone(params.get("timezone"))
    progress(5, 100, "reading")
    mark = time.perf_counter()
    data = original_bytes(photo)
    mark = lap("read", mark)
    progress(15, 100, "decoding")
    try:
        decoded = formats.decode(
            data,
            long_edge=export_module.PREVIEW_LONG_EDGE,
            max_pixels=settings.PHOTOS_MAX_PIXELS,
            slack=export_module.PREVIEW_SLACK,
        )
        mark = lap("decode", mark)
        progress(40, 100, "analysing")
        choices = [
            preset_rules.PresetChoice(key=preset.pk, rules=preset.rules)
            for preset in selectors.preset_list_for_selection(owner=photo.owner_id)
        ]
        result = analysis.analyze_photo(
            data,
            decoded=decoded,
            preset_choices=choices,
            default_tz=tz,
            max_pixels=settings.PHOTOS_MAX_PIXELS,
        )
    except PhotoError as exc:
        raise _refused(exc) from exc
    mark = time.perf_counter()
    for stage, ms in result.timings_ms.items():
        if stage != "total":
            stages["resize" if stage == "decode" else stage] = ms
    progress(75, 100, "thumbnail and preview")
    stored = _renditions_store(photo, decoded)
    mark = lap("thumbnail_preview", mark)
    progress(90, 100, "saving")
    fields = _analysis_fields(photo, result)
    follow_ups = _analysis_save(photo, fields, params=params, stored=stored)
    lap("store", mark)
    stages["total"] = round((time.perf_counter() - started) * 1000, 2)
    logger.info(
        "photo_analyzed photo_id=%s score=%s labels=%s total_ms=%s",
        photo_id,
        result.quality.score,
        ",".join(result.labels),
        stages["total"],
    )
    return {
        "photo_id": photo_id,
        "format": result.format,
        "width": result.width,
        "height": result.height,
        "score": result.quality.score,
        "labels": result.labels,
        "faces": result.quality.faces,
        "preset_id": fields.get("preset_id", photo.preset_id),
        "priority": result.priority,
        "phash": result.phash,
        "stages_ms": stages,
        **follow_ups,
    }


def _analysis_save(
    photo: Photo, fields: dict[str, Any], *, params: dict, stored: list[str]
) -> dict[str, Any]:
    follow_ups: dict[str, Any] = {}
    with transaction.atomic():
        # The session's row lock orders the last analyses of a session, so
        # exactly one of them sees no photo left and queues the grouping.
        if photo.session_id:
            PhotoSession.objects.select_for_update().filter(pk=photo.session_id).first()
        written = Photo.objects.filter(pk=photo.pk).update(**fields)
        if not written:
            transaction.on_commit(lambda: files_delete(stored))
            raise Photo.DoesNotExist(
                f"photo {photo.pk} was deleted during its analysis"
            )
        preset_id = fields.get("preset_id", photo.preset_id)
        if params.get("apply_preset") and preset_id:
            job = _apply_preset_submit(
                photo, preset_id=preset_id, score=fields["score"]
            )
            follow_ups["apply_preset_task_id"] = job.task_id
        if photo.session_id:
            job = session_group_when_finished(
                session_id=photo.session_id, exclude_photo_id=photo.pk
            )
            if job is not None:
                follow_ups["group_task_id"] = job.task_id
    return follow_ups


def _apply_preset_submit(
    photo: Photo, *, preset_id: int, score: float | None
) -> ProcessingJob:
    return job_services.job_submit(
        job_type=selectors.APPLY_PRESET_JOB_TYPE,
        target=photo,
        params={"preset_id": preset_id},
        priority=quality.priority_for(score),
        submitted_by=photo.owner,
    )


def session_group_when_finished(
    *, session_id: int, exclude_photo_id: int | None = None
) -> ProcessingJob | None:
    """Queue the session's grouping once none of its photos waits for analysis.

    Call with the session's row locked. A grouping that is queued and not
    started yet will see the latest analyses: no second one is queued then.
    """
    if selectors.session_unfinished_count(
        session_id=session_id, exclude_photo_id=exclude_photo_id
    ):
        return None
    session = PhotoSession.objects.select_related("owner").get(pk=session_id)
    waiting = selectors.session_group_job_waiting(session=session)
    if waiting is not None:
        return waiting
    return job_services.job_submit(
        job_type=selectors.GROUP_JOB_TYPE, target=session, submitted_by=session.owner
    )


def photo_mark_failed(*, photo_id: int, error: str) -> None:
    """Mark a photo whose analysis failed for good, with the reason; the session may group now."""
    with transaction.atomic():
        session_id = (
            Photo.objects.filter(pk=photo_id)
            .values_list("session_id", flat=True)
            .first()
        )
        if session_id:
            PhotoSession.objects.select_for_update().filter(pk=session_id).first()
        photos = Photo.objects.filter(pk=photo_id)
        # A failed re-analysis leaves the earlier results (and status) in place.
        photos.filter(status=Photo.Status.ANALYZED).update(error_message=error[:2000])
        failed = photos.exclude(status=Photo.Status.ANALYZED).update(
            status=Photo.Status.FAILED, error_message=error[:2000]
        )
        if failed and session_id:
            session_group_when_finished(session_id=session_id)
