"""Streaming to and from media storage: request bodies in, byte ranges out, nothing whole in memory.

Everything goes through Django's storage API. Reading from an S3 bucket
takes one detour: django-storages' S3File downloads the whole object into
memory on its first read, so a range or a part is read with a ranged GET on
the object the S3File already holds (`obj`, boto3's Object).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.core.files import File
from django.core.files.storage import Storage
from django.core.files.storage import default_storage

CHUNK_BYTES = 1024 * 1024


class MeteredReader:
    """A file-like view of a stream: at most `limit` bytes, counted and hashed as read.

    A client that disconnects mid-body ends the stream early (a short read,
    or a connection error): whatever arrived is kept and `is_complete` tells.
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        limit: int,
        extra_hashes: tuple = (),
        sha256: bool = True,
    ):
        self.stream = stream
        self.limit = limit
        self.count = 0
        self.sha256 = hashlib.sha256() if sha256 else None
        self.extra_hashes = extra_hashes
        self.head = b""
        self.ended_early = False

    def read(self, size: int = -1) -> bytes:
        left = self.limit - self.count
        if left <= 0 or self.ended_early:
            return b""
        size = left if size is None or size < 0 else min(size, left)
        try:
            data = self.stream.read(size)
        except (OSError, ValueError):
            # The client went away mid-body (reset, or the server's reader
            # gave up): keep what arrived.
            data = b""
        if not data:
            self.ended_early = True
            return b""
        self.count += len(data)
        if self.sha256 is not None:
            self.sha256.update(data)
        for digest in self.extra_hashes:
            digest.update(data)
        if len(self.head) < 64:
            self.head += data[: 64 - len(self.head)]
        return data

    def seekable(self) -> bool:
        return False

    @property
    def is_complete(self) -> bool:
        return self.count == self.limit


class _StreamFile(File):
    """A File over a stream that cannot seek, read by storage in large chunks."""

    DEFAULT_CHUNK_SIZE = CHUNK_BYTES

    def seekable(self) -> bool:
        return False


def save_stream(
    name: str, reader: MeteredReader, *, storage: Storage | None = None
) -> str:
    """Store what `reader` yields under `name` (or the free name storage picks); streamed."""
    storage = storage or default_storage
    return storage.save(name, _StreamFile(reader, name=Path(name).name))


class _LocalFile(File):
    """A local file storage may move into place instead of copying it (FileSystemStorage)."""

    def __init__(self, file, path: Path):
        super().__init__(file, name=path.name)
        self._path = path

    def temporary_file_path(self) -> str:
        return str(self._path)


def save_local_file(path: Path, name: str, *, storage: Storage | None = None) -> str:
    """Store a local file under `name`, moving it when storage is on the same disk.

    The file at `path` is gone afterwards on local storage (moved) and left
    in place on remote storage (uploaded): callers remove it either way.
    """
    storage = storage or default_storage
    with open(path, "rb") as local:
        return storage.save(name, _LocalFile(local, path))


@contextmanager
def _opened(name: str, storage: Storage):
    stored = storage.open(name, "rb")
    try:
        yield stored
    finally:
        stored.close()


def iter_range(
    name: str,
    start: int = 0,
    end: int | None = None,
    *,
    storage: Storage | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[bytes]:
    """The stored file's bytes from `start` to `end` inclusive (None: to the end), in chunks."""
    storage = storage or default_storage
    with _opened(name, storage) as stored:
        remote = getattr(stored, "obj", None)
        if remote is not None:  # S3: a ranged GET, streamed
            byte_range = f"bytes={start}-{'' if end is None else end}"
            body = remote.get(Range=byte_range)["Body"]
            try:
                yield from body.iter_chunks(chunk_bytes)
            finally:
                body.close()
            return
        stored.seek(start)
        left = None if end is None else end - start + 1
        while left is None or left > 0:
            data = stored.read(chunk_bytes if left is None else min(chunk_bytes, left))
            if not data:
                return
            if left is not None:
                left -= len(data)
            yield data


def copy_to(name: str, destination: BinaryIO, *, storage: Storage | None = None) -> int:
    """Append the whole stored file to an open local file; the bytes copied."""
    copied = 0
    for chunk in iter_range(name, storage=storage):
        destination.write(chunk)
        copied += len(chunk)
    return copied


def local_path(name: str, *, storage: Storage | None = None) -> Path | None:
    """The stored file's path when storage is a local disk; None for a bucket."""
    storage = storage or default_storage
    try:
        return Path(storage.path(name))
    except NotImplementedError:
        return None


def concatenate_local(
    sources: list[Path], destination: BinaryIO, *, hash_them: bool = True
) -> str | None:
    """Append local files to `destination` in the kernel; their SHA-256, read alongside.

    The copy (copy_file_range) and the hashing (a second thread reading the
    same pages from the page cache) run at once: both leave the GIL.
    Without `hash_them`, only the copy (and None).
    """
    digest = hashlib.sha256()
    failures: list[BaseException] = []
    to_hash = sources if hash_them else []

    def hash_sources() -> None:
        try:
            for source in to_hash:
                with open(source, "rb") as local:
                    while chunk := local.read(4 * CHUNK_BYTES):
                        digest.update(chunk)
        except BaseException as error:  # re-raised in the caller's thread
            failures.append(error)

    hasher = threading.Thread(target=hash_sources, name="sha256", daemon=True)
    hasher.start()
    try:
        out = destination.fileno()
        destination.flush()
        for source in sources:
            with open(source, "rb") as local:
                left = os.fstat(local.fileno()).st_size
                while left > 0:
                    copied = os.copy_file_range(local.fileno(), out, left)
                    if copied == 0:
                        break
                    left -= copied
    finally:
        hasher.join()
    if failures:
        raise failures[0]
    return digest.hexdigest() if hash_them else None


def delete_tree(prefix: str, *, storage: Storage | None = None) -> int:
    """Delete every stored file under the folder `prefix`; how many were deleted."""
    storage = storage or default_storage
    try:
        folders, files = storage.listdir(prefix)
    except FileNotFoundError:
        return 0
    deleted = 0
    for folder in folders:
        deleted += delete_tree(f"{prefix.rstrip('/')}/{folder}", storage=storage)
    for file_name in files:
        storage.delete(f"{prefix.rstrip('/')}/{file_name}")
        deleted += 1
    local = _local_dir(storage, prefix)
    if local is not None:
        shutil.rmtree(local, ignore_errors=True)
    return deleted


def _local_dir(storage: Storage, prefix: str) -> Path | None:
    try:
        return Path(storage.path(prefix))
    except NotImplementedError:
        return None
