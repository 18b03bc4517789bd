"""Sessions (shoots, imports): created, renamed, deleted; photos updated by their owners."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import transaction

from photos.models import Photo
from photos.models import PhotoSession

_UNSET: Any = object()


def session_create(*, owner: Any, name: str) -> PhotoSession:
    """Create a session; ValidationError when the owner already has one of that name."""
    session = PhotoSession(owner=owner, name=name.strip())
    session.full_clean()
    session.save()
    return session


def session_get_or_create(*, owner: Any, name: str) -> tuple[PhotoSession, bool]:
    """The owner's session of this name, created if missing (safe against a racing import)."""
    name = name.strip()
    session = PhotoSession.objects.filter(owner=owner, name=name).first()
    if session is not None:
        return session, False
    try:
        with transaction.atomic():
            return session_create(owner=owner, name=name), True
    except (IntegrityError, ValidationError):
        session = PhotoSession.objects.filter(owner=owner, name=name).first()
        if session is None:
            raise
        return session, False


def session_update(*, session: PhotoSession, name: str) -> PhotoSession:
    """Rename a session; ValidationError when the owner has another of that name."""
    session.name = name.strip()
    session.full_clean()
    session.save(update_fields=["name"])
    return session


def session_delete(*, session: PhotoSession) -> None:
    """Delete a session and its groups; its photos stay, outside any session."""
    session.delete()


@transaction.atomic
def photo_update(
    *,
    photo: Photo,
    session: PhotoSession | None = _UNSET,
    taken_at: datetime | None = _UNSET,
) -> Photo:
    """Move a photo to another session of its owner, or correct its taken-at time.

    A corrected time is the client's, and a later analysis keeps it instead
    of the camera's; None goes back to the camera's time at the next
    analysis. Moving a photo takes it out of its similar group.
    """
    fields = []
    if session is not _UNSET and session != photo.session:
        if session is not None and session.owner_id != photo.owner_id:
            raise ValidationError({"session": "the session belongs to another user"})
        photo.session = session
        photo.group = None
        photo.is_best_in_group = False
        fields += ["session", "group", "is_best_in_group"]
    if taken_at is not _UNSET:
        photo.taken_at = taken_at
        photo.taken_at_source = "client" if taken_at is not None else ""
        fields += ["taken_at", "taken_at_source"]
    if fields:
        photo.save(update_fields=fields)
    return photo
