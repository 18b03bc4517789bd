"""Exports: asked for with their options, rendered by a job, stored once."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from jobs import services as job_services
from jobs.errors import PermanentJobError
from photos import export as export_module
from photos import quality
from photos import selectors
from photos.errors import InvalidSettings
from photos.errors import PhotoError
from photos.models import Export
from photos.models import Photo
from photos.models import Preset
from photos.services.storage import derived_store
from photos.services.storage import files_delete
from photos.services.storage import original_bytes

logger = logging.getLogger(__name__)

_FROM_PHOTO: Any = object()


@transaction.atomic
def export_create(
    *,
    photo: Photo,
    requested_by: Any,
    preset: Preset | None = _FROM_PHOTO,
    format: str = "JPEG",
    quality_level: int = 90,
    long_edge: int | None = None,
    keep_metadata: bool = True,
    strip_gps: bool = True,
) -> Export:
    """Ask for an export and queue its rendering (low queue, priority from the photo's score).

    Without a `preset` argument the photo's own preset develops it; None
    exports it undeveloped. The preset's adjustments are copied now, so a
    later edit of the preset does not change this export. ICC profiles are
    always kept; EXIF only with `keep_metadata`, and GPS only when also
    `strip_gps` is False.
    """
    try:
        fmt = export_module.validate_export_options(
            fmt=format, quality=quality_level, long_edge=long_edge
        )
    except InvalidSettings as exc:
        raise ValidationError(exc.extra.get("problems") or exc.detail) from None
    if preset is _FROM_PHOTO:
        preset = photo.preset
    if preset is not None and preset.owner_id not in (None, photo.owner_id):
        raise PermissionDenied("the preset belongs to another user")
    export = Export(
        owner_id=photo.owner_id,
        photo=photo,
        preset=preset,
        adjustments=dict(preset.adjustments) if preset is not None else {},
        format=fmt,
        quality=quality_level,
        long_edge=long_edge,
        keep_metadata=keep_metadata,
        strip_gps=strip_gps,
    )
    export.full_clean()
    export.save()
    job_services.job_submit(
        job_type=selectors.EXPORT_JOB_TYPE,
        target=export,
        priority=quality.priority_for(photo.score),
        submitted_by=requested_by,
    )
    return export


def export_render(*, export_id: int) -> dict[str, Any]:
    """Render and store an export; idempotent (a completed export is left as it is)."""
    export = Export.objects.select_related("photo").get(pk=export_id)
    answer = {"export_id": export_id, "photo_id": export.photo_id}
    if export.status == Export.Status.COMPLETED and export.file:
        return {**answer, "unchanged": True, "size_bytes": export.size_bytes}
    Export.objects.filter(pk=export_id).update(status=Export.Status.RENDERING)
    data = original_bytes(export.photo)
    try:
        rendition = export_module.export_photo(
            data,
            fmt=export.format,
            quality=export.quality,
            long_edge=export.long_edge,
            keep_metadata=export.keep_metadata,
            strip_gps=export.strip_gps,
            adjustments=export.adjustments or None,
            max_pixels=settings.PHOTOS_MAX_PIXELS,
        )
    except PhotoError as exc:
        raise PermanentJobError(f"{exc.code}: {exc.detail}") from exc
    name = derived_store(
        name=f"photos/exports/{export.public_id}{export.extension}",
        data=rendition.data,
    )
    written = (
        Export.objects.filter(pk=export_id)
        .exclude(status=Export.Status.COMPLETED)
        .update(
            file=name,
            size_bytes=rendition.size_bytes,
            width=rendition.width,
            height=rendition.height,
            icc_profile_kept=bool(rendition.icc_profile_kept),
            status=Export.Status.COMPLETED,
            error_message="",
            completed_at=timezone.now(),
        )
    )
    if not written:
        current = Export.objects.filter(pk=export_id).values_list("file", flat=True)
        if name not in current:
            files_delete([name])
    logger.info(
        "photo_exported export_id=%s format=%s size_bytes=%s",
        export_id,
        export.format,
        rendition.size_bytes,
    )
    return {
        **answer,
        "unchanged": False,
        "format": export.format,
        "width": rendition.width,
        "height": rendition.height,
        "size_bytes": rendition.size_bytes,
    }


def export_mark_failed(*, export_id: int, error: str) -> None:
    """Mark an export whose rendering failed for good, with the reason."""
    Export.objects.filter(pk=export_id).exclude(status=Export.Status.COMPLETED).update(
        status=Export.Status.FAILED, error_message=error[:2000]
    )


def export_delete(*, export: Export) -> None:
    """Delete an export and its file."""
    name = export.file.name
    export.delete()
    transaction.on_commit(lambda: files_delete([name]))
