"""Media files for job code: read and written only through Django's storage API.

Web and workers may run on different machines, sharing a bucket rather than
a disk, so no local path ever goes from one to the other: a job gets the
stored file's name, and code that needs a real file (FFmpeg, PDF libraries)
asks `local_copy()` for one.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.files import File
from django.core.files.storage import Storage
from django.core.files.storage import default_storage

COPY_CHUNK_BYTES = 1024 * 1024


def _local_path(storage: Storage, name: str) -> Path | None:
    """The file's path when the storage is a local disk; None for remote storage."""
    try:
        return Path(storage.path(name))
    except NotImplementedError:
        return None


@contextmanager
def local_copy(
    name: str, *, storage: Storage | None = None, suffix: str = ""
) -> Iterator[Path]:
    """A real local file with the stored file's content, for the length of the block.

    On local storage this is the stored file itself (read it, don't change
    it); on remote storage a temporary copy, streamed in chunks and removed
    whatever the block's outcome. Raises FileNotFoundError for a missing file.
    """
    storage = storage or default_storage
    local = _local_path(storage, name)
    if local is not None:
        if not local.is_file():
            raise FileNotFoundError(f"stored file {name!r} is missing")
        yield local
        return
    suffix = suffix or Path(name).suffix
    handle, temp_name = tempfile.mkstemp(prefix="mq-", suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as temp, storage.open(name, "rb") as stored:
            shutil.copyfileobj(stored, temp, COPY_CHUNK_BYTES)
        yield Path(temp_name)
    finally:
        Path(temp_name).unlink(missing_ok=True)


def store_local_file(path: Path, *, name: str, storage: Storage | None = None) -> str:
    """Save a local file into storage under `name` (streamed); returns the name it got."""
    storage = storage or default_storage
    with open(path, "rb") as local:
        return storage.save(name, File(local, name=Path(name).name))


def delete_quietly(name: str, *, storage: Storage | None = None) -> bool:
    """Delete a stored file if it exists; False when there was nothing to delete."""
    storage = storage or default_storage
    if not name or not storage.exists(name):
        return False
    storage.delete(name)
    return True
