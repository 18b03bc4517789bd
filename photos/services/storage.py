"""The photos app's files in storage: reading originals, writing derived files once."""

import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Model

from jobs.errors import PermanentJobError
from jobs.files import delete_quietly

logger = logging.getLogger(__name__)


def original_bytes(photo: Model) -> bytes:
    """The original file's bytes; PermanentJobError when the file is gone.

    Other storage errors (a bucket not answering) propagate: they are
    transient and the job retries.
    """
    try:
        with photo.original.open("rb") as original:
            return original.read()
    except FileNotFoundError as exc:
        raise PermanentJobError(
            f"the original file of photo {photo.pk} is missing: {exc}"
        ) from exc


def derived_store(*, name: str, data: bytes) -> str:
    """Write a derived file under the name made from its row's id; returns the stored name.

    A file left under that name by an earlier run that stopped before its
    row was updated is replaced, so no copy piles up beside it.
    """
    delete_quietly(name)
    return default_storage.save(name, ContentFile(data))


def files_delete(names: list[str]) -> None:
    """Delete stored files, logging (not raising) what cannot be deleted."""
    for name in names:
        if not name:
            continue
        try:
            delete_quietly(name)
        except OSError:
            logger.exception("could not delete stored file %s", name)
