"""Encoding profiles: the admin and staff API edit them through here."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import ProtectedError

from jobs.errors import JobStateConflict
from videos.models import EncodingProfile

EDITABLE = (
    "slug",
    "name",
    "description",
    "height",
    "fps",
    "preset",
    "crf",
    "keyframe_interval_s",
    "audio_bitrate",
    "max_audio_channels",
    "is_default",
    "is_auto",
    "is_active",
)


@transaction.atomic
def profile_save(
    *, profile: EncodingProfile | None = None, **fields: Any
) -> EncodingProfile:
    """Create or change a profile; making one the default takes the flag from the previous one."""
    profile = profile or EncodingProfile()
    for name, value in fields.items():
        if name not in EDITABLE:
            raise TypeError(f"{name} is not an editable field of a profile")
        setattr(profile, name, value)
    if profile.is_default:
        EncodingProfile.objects.select_for_update().filter(is_default=True).exclude(
            pk=profile.pk
        ).update(is_default=False)
    profile.full_clean()
    profile.save()
    return profile


def profile_delete(*, profile: EncodingProfile) -> None:
    """Delete a profile that no rendition uses (else: deactivate it instead)."""
    try:
        profile.delete()
    except ProtectedError:
        raise JobStateConflict(
            f"renditions use the profile {profile.slug!r}; deactivate it instead"
        ) from None
