"""Removing captures: past retention (periodic) or one by one; files go with the rows."""

import logging
from datetime import datetime

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from captures import selectors
from captures.models import Capture

logger = logging.getLogger(__name__)


def _delete_files(names: list[str]) -> int:
    deleted = 0
    for name in names:
        if not name:
            continue
        try:
            if default_storage.exists(name):
                default_storage.delete(name)
                deleted += 1
        except OSError:
            logger.exception("could not delete capture file %s", name)
    return deleted


def capture_delete(*, capture: Capture) -> None:
    """Delete a capture, its observations and, once committed, its file."""
    names = [capture.image.name, capture.thumbnail.name]
    with transaction.atomic():
        capture.delete()
        transaction.on_commit(lambda: _delete_files(names))


def captures_cleanup(*, now: datetime | None = None, batch_size: int = 500) -> dict:
    """Delete captures past retention (device override, else the default), their
    observations and files. Idempotent; rows go first, so a crash can leave a
    stray file but never a row without its file."""
    now = now or timezone.now()
    expired = selectors.capture_list_expired(now=now)
    deleted = files = 0
    while True:
        batch = list(expired.values_list("pk", "image", "thumbnail")[:batch_size])
        if not batch:
            break
        with transaction.atomic():
            Capture.objects.filter(pk__in=[pk for pk, _, _ in batch]).delete()
        deleted += len(batch)
        files += _delete_files(
            [name for _, image, thumb in batch for name in (image, thumb)]
        )
    logger.info("captures_cleanup deleted=%s files=%s", deleted, files)
    return {"deleted": deleted, "files_deleted": files}
