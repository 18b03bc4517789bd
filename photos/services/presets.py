"""Presets: written by their owners (shared ones by staff), applied to photos by a job."""

import hashlib
import json
import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from jobs import services as job_services
from jobs.errors import PermanentJobError
from jobs.models import ProcessingJob
from photos import develop
from photos import export as export_module
from photos import formats
from photos import quality
from photos import selectors
from photos.containers import RAW_FORMATS
from photos.errors import PhotoError
from photos.models import Photo
from photos.models import Preset
from photos.services.storage import derived_store
from photos.services.storage import files_delete
from photos.services.storage import original_bytes

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = ("name", "description", "adjustments", "rules", "is_active", "owner")


def _may_edit(preset: Preset, user: Any) -> bool:
    if user is None or getattr(user, "is_staff", False):
        return True
    return preset.owner_id is not None and preset.owner_id == user.pk


def preset_create(*, created_by: Any, shared: bool = False, **fields: Any) -> Preset:
    """Create a preset (validated ranges and rules); shared presets are for staff only."""
    if shared and not getattr(created_by, "is_staff", False):
        raise PermissionDenied("only staff create shared presets")
    preset = Preset(owner=None if shared else created_by, **fields)
    preset.full_clean()
    preset.save()
    return preset


def preset_update(*, preset: Preset, updated_by: Any, **fields: Any) -> Preset:
    """Change a preset's fields (validated); shared presets only by staff, others by their owner."""
    if not _may_edit(preset, updated_by):
        raise PermissionDenied("only staff change shared presets")
    if "owner" in fields and not getattr(updated_by, "is_staff", False):
        raise PermissionDenied("only staff move a preset to another user or share it")
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} is not an editable preset field")
        setattr(preset, name, value)
    preset.full_clean()
    preset.save()
    return preset


def preset_delete(*, preset: Preset, deleted_by: Any) -> None:
    """Delete a preset; photos and exports that used it keep their files and settings."""
    if not _may_edit(preset, deleted_by):
        raise PermissionDenied("only staff delete shared presets")
    preset.delete()


def photo_preset_choose(
    *, photo: Photo, preset: Preset | None, submitted_by: Any
) -> ProcessingJob | None:
    """Set the photo's preset by hand and queue its development (high queue); None clears it.

    The choice outranks automatic selection at later analyses.
    """
    if preset is not None and preset.owner_id not in (None, photo.owner_id):
        raise PermissionDenied("the preset belongs to another user")
    with transaction.atomic():
        Photo.objects.filter(pk=photo.pk).update(
            preset=preset, preset_chosen_by_user=preset is not None
        )
        photo.preset, photo.preset_chosen_by_user = preset, preset is not None
        if preset is None:
            return None
        return job_services.job_submit(
            job_type=selectors.APPLY_PRESET_JOB_TYPE,
            target=photo,
            params={"preset_id": preset.pk},
            priority=quality.priority_for(photo.score),
            submitted_by=submitted_by,
        )


def development_key(preset: Preset) -> str:
    """What a development depends on (the preset and its adjustments), hashed."""
    recipe = json.dumps(
        {"preset": preset.pk, "adjustments": preset.adjustments}, sort_keys=True
    )
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def photo_preset_apply(*, photo_id: int, preset_id: int) -> dict[str, Any]:
    """Render the photo's developed preview and write the XMP sidecar with the same settings.

    Idempotent: a photo already developed with this preset and these
    adjustments is left as it is; otherwise the new files replace the old
    ones (names from the photo's id and the development key).
    """
    photo = Photo.objects.get(pk=photo_id)
    try:
        preset = selectors.preset_usable_by(owner=photo.owner_id, preset_id=preset_id)
    except Preset.DoesNotExist:
        raise PermanentJobError(
            f"preset {preset_id} does not exist or belongs to another user"
        ) from None
    key = development_key(preset)
    answer = {"photo_id": photo_id, "preset_id": preset.pk, "preset": preset.name}
    if photo.developed_key == key and photo.developed and photo.sidecar:
        return {**answer, "unchanged": True}
    data = original_bytes(photo)
    try:
        decoded = formats.decode(
            data,
            long_edge=export_module.PREVIEW_LONG_EDGE,
            slack=export_module.PREVIEW_SLACK,
        )
        developed = develop.develop(decoded.image, preset.adjustments)
    except PhotoError as exc:
        raise PermanentJobError(f"{exc.code}: {exc.detail}") from exc
    rendition = export_module.preview_jpeg(developed, icc_profile=decoded.icc_profile)
    sidecar = develop.xmp_sidecar(
        preset.adjustments, is_raw=photo.format in RAW_FORMATS
    )
    stem = photo.original_name or f"photo-{photo.pk}.{photo.format.lower()}"
    names = {
        "developed": derived_store(
            name=f"photos/developed/{photo.pk}-{key}.jpg", data=rendition.data
        ),
        "sidecar": derived_store(
            name=f"photos/sidecars/{photo.pk}-{key}/{develop.sidecar_name(stem)}",
            data=sidecar,
        ),
    }
    previous = [photo.developed.name, photo.sidecar.name]
    # Written only if no other run changed the development since it was read.
    written = Photo.objects.filter(
        pk=photo_id, developed_key=photo.developed_key
    ).update(
        developed=names["developed"],
        sidecar=names["sidecar"],
        developed_key=key,
        developed_preset=preset,
        developed_at=timezone.now(),
    )
    if written:
        files_delete([name for name in previous if name not in names.values()])
    else:
        current = (
            Photo.objects.filter(pk=photo_id)
            .values_list("developed", "sidecar")
            .first()
        )
        files_delete([name for name in names.values() if name not in (current or ())])
    logger.info("photo_developed photo_id=%s preset_id=%s", photo_id, preset.pk)
    return {
        **answer,
        "unchanged": False,
        "developed": names["developed"],
        "sidecar": names["sidecar"],
        "width": rendition.width,
        "height": rendition.height,
    }
