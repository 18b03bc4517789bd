"""Uploads: tus (resumable at any byte), the original's multipart flow, and one-request posts.

Every piece a client sends is streamed into storage as an object of its own
(S3 has no append), under `video-uploads/<upload id>/`. When the last byte
is in, the pieces are streamed in order into one local file while its
SHA-256 is computed; size and checksum are verified, the file is probed,
and only then does a Video exist. Nothing is held whole in memory.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import secrets
import threading
from collections import OrderedDict
from datetime import timedelta
from pathlib import Path
from typing import Any
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from jobs import selectors as job_selectors
from jobs.files import delete_quietly
from videos.errors import ChecksumMismatch
from videos.errors import UnsupportedVideo
from videos.errors import UploadConflict
from videos.errors import UploadError
from videos.errors import UploadGone
from videos.errors import UploadTooLong
from videos.errors import UploadVerificationFailed
from videos.errors import VideoError
from videos.errors import VideoLimitExceeded
from videos.models import Upload
from videos.models import UploadPart
from videos.models import Video
from videos.services.common import PROXY_JOB_TYPE
from videos.services.common import work_dir
from videos.services.videos import VideoCreated
from videos.services.videos import clean_filename
from videos.services.videos import video_create_from_file
from videos.sniff import check_head
from videos.storage_io import MeteredReader
from videos.storage_io import concatenate_local
from videos.storage_io import copy_to
from videos.storage_io import delete_tree
from videos.storage_io import local_path
from videos.storage_io import save_stream

logger = logging.getLogger("videos")

UPLOADS_FOLDER = "video-uploads"
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
CHECKSUM_ALGORITHMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1}
GONE = (Upload.Status.ABORTED, Upload.Status.EXPIRED, Upload.Status.FAILED)


def upload_folder(upload_id) -> str:
    return f"{UPLOADS_FOLDER}/{upload_id}"


def _expiry():
    return timezone.now() + timedelta(seconds=settings.VIDEOS_UPLOAD_EXPIRY_S)


def _checked_size(size_bytes: int) -> int:
    if (
        isinstance(size_bytes, bool)
        or not isinstance(size_bytes, int)
        or size_bytes < 0
    ):
        raise UploadError(
            f"The size must be a whole number of bytes, not {size_bytes!r}."
        )
    if size_bytes == 0:
        raise UnsupportedVideo("The file is empty.")
    if size_bytes > settings.VIDEOS_MAX_UPLOAD_BYTES:
        raise VideoLimitExceeded(
            f"The file has {size_bytes} bytes, more than the "
            f"{settings.VIDEOS_MAX_UPLOAD_BYTES} allowed.",
            limit="size",
        )
    return size_bytes


def _checked_sha256(sha256: str | None) -> str:
    value = (sha256 or "").strip().lower()
    if value and not SHA256_HEX.match(value):
        raise UploadError("The SHA-256 must be 64 hexadecimal digits.")
    return value


def upload_create(
    *,
    owner: Any,
    protocol: str,
    size_bytes: int,
    filename: str = "",
    title: str = "",
    sha256: str = "",
    metadata: dict | None = None,
    part_size_bytes: int | None = None,
) -> Upload:
    """Start an upload of `size_bytes` (tus, or multipart in parts of `part_size_bytes`).

    Refuses an empty file (415), one over VIDEOS_MAX_UPLOAD_BYTES (413), a
    malformed SHA-256 or part size (400).
    """
    size_bytes = _checked_size(size_bytes)
    upload = Upload(
        owner=owner,
        protocol=protocol,
        size_bytes=size_bytes,
        filename=clean_filename(filename),
        title=(title or "").strip()[:200],
        sha256=_checked_sha256(sha256),
        metadata=metadata or {},
        expires_at=_expiry(),
    )
    if protocol == Upload.Protocol.MULTIPART:
        upload.part_size_bytes, upload.part_count = _part_layout(
            size_bytes, part_size_bytes
        )
    upload.full_clean()
    upload.save(force_insert=True)
    logger.info(
        "upload_created upload_id=%s protocol=%s size=%s owner=%s",
        upload.id,
        protocol,
        size_bytes,
        owner.pk,
    )
    return upload


def _part_layout(size_bytes: int, part_size_bytes: int | None) -> tuple[int, int]:
    part_size = part_size_bytes or settings.VIDEOS_MULTIPART_PART_SIZE_BYTES
    smallest = settings.VIDEOS_MULTIPART_MIN_PART_BYTES
    most = settings.VIDEOS_MULTIPART_MAX_PARTS
    if isinstance(part_size, bool) or not isinstance(part_size, int):
        raise UploadError(
            f"The part size must be a number of bytes, not {part_size!r}."
        )
    if part_size < smallest and part_size < size_bytes:
        raise UploadError(f"Parts must have at least {smallest} bytes (but the last).")
    part_size = min(part_size, size_bytes)
    count = math.ceil(size_bytes / part_size)
    if count > most:
        raise UploadError(
            f"{count} parts of {part_size} bytes; at most {most} parts: choose parts of "
            f"at least {math.ceil(size_bytes / most)} bytes."
        )
    return part_size, count


def upload_check_open(upload: Upload) -> Upload:
    """The upload, if it may still receive data; UploadGone if it expired or ended."""
    if upload.status == Upload.Status.RECEIVING and upload.expires_at <= timezone.now():
        upload_expire(upload=upload)
        upload.refresh_from_db()
    if upload.status in GONE:
        raise UploadGone(
            f"The upload is {upload.status}"
            + (f": {upload.error_message}" if upload.error_message else "")
            + "; start a new one."
        )
    if upload.status != Upload.Status.RECEIVING:
        raise UploadConflict(f"The upload is {upload.status}; it takes no more data.")
    return upload


# tus ------------------------------------------------------------------------


def upload_append(
    *,
    upload: Upload,
    offset: int,
    stream: BinaryIO,
    length: int | None,
    checksum: tuple[str, bytes] | None = None,
) -> tuple[Upload, VideoCreated | None]:
    """Append a tus PATCH body at `offset`; with its last byte, verify and make the Video.

    The body is stored as it arrives: a client that disconnects mid-way
    keeps what was received (the next HEAD tells the offset to resume from),
    unless it sent a checksum, which a partial body cannot match. Raises
    UploadConflict (offset not the upload's, or a concurrent append won),
    UploadTooLong (past the announced length), ChecksumMismatch, and on
    completion whatever verification or probing refuses.
    """
    upload_check_open(upload)
    if upload.protocol != Upload.Protocol.TUS:
        raise UploadConflict("This is not a tus upload.")
    if offset != upload.received_bytes:
        raise UploadConflict(
            f"Upload-Offset {offset} does not match the upload's offset "
            f"{upload.received_bytes}."
        )
    remaining = upload.size_bytes - offset
    if length is not None and length > remaining:
        raise UploadTooLong(
            f"The body has {length} bytes; the upload has {remaining} left of "
            f"{upload.size_bytes}."
        )
    hasher = CHECKSUM_ALGORITHMS[checksum[0]]() if checksum else None
    running = _running_hash_take(upload, offset)
    reader = MeteredReader(
        stream,
        limit=remaining if length is None else length,
        extra_hashes=tuple(digest for digest in (hasher, running) if digest),
        sha256=False,
    )
    name = f"{upload_folder(upload.id)}/{offset:015d}-{secrets.token_hex(4)}.part"
    stored = save_stream(name, reader)
    try:
        if reader.count == 0 or (checksum and not reader.is_complete):
            # Nothing arrived, or a partial body whose checksum cannot hold.
            delete_quietly(stored)
            upload.refresh_from_db()
            return upload, None
        if checksum and hasher.digest() != checksum[1]:
            raise ChecksumMismatch(
                f"The {checksum[0]} of the {reader.count} bytes received does not "
                "match Upload-Checksum; nothing was stored."
            )
        if offset == 0:
            _check_head_or_fail(upload, reader.head)
        _record_piece(upload, offset, reader, stored)
    except BaseException:
        delete_quietly(stored)
        raise
    _running_hash_keep(upload, offset + reader.count, running)
    upload.refresh_from_db()
    if upload.received_bytes == upload.size_bytes:
        return upload, upload_finish(upload=upload)
    return upload, None


# The SHA-256 of a tus upload, carried from one PATCH to the next while they
# reach the same process (always, for a client that sends the whole file in
# one PATCH): the bytes pass here anyway, so the whole file need not be read
# again to hash it when it is assembled. Elsewhere it is hashed then.
_running_hashes: OrderedDict[str, tuple[int, Any]] = OrderedDict()
_running_hashes_lock = threading.Lock()
RUNNING_HASHES_MAX = 64


def _running_hash_take(upload: Upload, offset: int):
    with _running_hashes_lock:
        state = _running_hashes.pop(str(upload.pk), None)
    if offset == 0:
        return hashlib.sha256()
    if state is not None and state[0] == offset:
        return state[1]
    return None


def _running_hash_keep(upload: Upload, offset: int, running) -> None:
    if running is None:
        return
    with _running_hashes_lock:
        _running_hashes[str(upload.pk)] = (offset, running)
        while len(_running_hashes) > RUNNING_HASHES_MAX:
            _running_hashes.popitem(last=False)


def _running_hash_digest(upload: Upload) -> str | None:
    """The SHA-256 of the whole upload if this process saw every byte of it."""
    with _running_hashes_lock:
        state = _running_hashes.pop(str(upload.pk), None)
    if state is None or state[0] != upload.size_bytes:
        return None
    return state[1].hexdigest()


def _check_head_or_fail(upload: Upload, head: bytes) -> None:
    try:
        check_head(head)
    except UnsupportedVideo as error:
        _fail(upload, error.detail)
        raise


@transaction.atomic
def _record_piece(
    upload: Upload, offset: int, reader: MeteredReader, stored: str
) -> None:
    appended = Upload.objects.filter(
        pk=upload.pk, status=Upload.Status.RECEIVING, received_bytes=offset
    ).update(
        received_bytes=offset + reader.count,
        expires_at=_expiry(),
        updated_at=timezone.now(),
    )
    if not appended:
        raise UploadConflict(
            "Another request appended at this offset first; ask for the offset again."
        )
    UploadPart.objects.create(
        upload=upload,
        number=UploadPart.objects.filter(upload=upload).count() + 1,
        offset_bytes=offset,
        size_bytes=reader.count,
        sha256="",
        name=stored,
    )


# multipart ------------------------------------------------------------------


def part_expected_size(upload: Upload, number: int) -> int:
    """How many bytes part `number` of a multipart upload has."""
    if not 1 <= number <= upload.part_count:
        raise UploadError(
            f"Part numbers run from 1 to {upload.part_count}; {number} is outside."
        )
    if number < upload.part_count:
        return upload.part_size_bytes
    return upload.size_bytes - upload.part_size_bytes * (upload.part_count - 1)


def upload_part_put(
    *,
    upload: Upload,
    number: int,
    stream: BinaryIO,
    length: int | None,
    sha256: str | None = None,
) -> UploadPart:
    """Store part `number` of a multipart upload, in any order; sending a part again replaces it.

    The part must have exactly its size (the upload's part size, the last
    one the rest); `sha256`, if given, is checked (ChecksumMismatch).
    """
    upload_check_open(upload)
    if upload.protocol != Upload.Protocol.MULTIPART:
        raise UploadConflict("This is not a multipart upload.")
    expected = part_expected_size(upload, number)
    if length is not None and length != expected:
        raise UploadError(
            f"Part {number} must have {expected} bytes; the request has {length}."
        )
    expected_sha256 = _checked_sha256(sha256)
    reader = MeteredReader(stream, limit=expected)
    name = f"{upload_folder(upload.id)}/part-{number:05d}-{secrets.token_hex(4)}.part"
    stored = save_stream(name, reader)
    try:
        if not reader.is_complete:
            raise UploadError(
                f"Part {number} arrived incomplete: {reader.count} of {expected} bytes."
            )
        digest = reader.sha256.hexdigest()
        if expected_sha256 and digest != expected_sha256:
            raise ChecksumMismatch(
                f"The SHA-256 of part {number} is {digest}, not the {expected_sha256} "
                "sent with it; the part was not stored."
            )
        if number == 1:
            _check_head_or_fail(upload, reader.head)
        part, replaced = _record_part(upload, number, expected, digest, stored)
    except BaseException:
        delete_quietly(stored)
        raise
    if replaced and replaced != part.name:
        delete_quietly(replaced)
    if part.name != stored:
        delete_quietly(stored)  # the same bytes were already there
    return part


@transaction.atomic
def _record_part(
    upload: Upload, number: int, size: int, digest: str, stored: str
) -> tuple[UploadPart, str | None]:
    locked = Upload.objects.select_for_update().get(pk=upload.pk)
    upload_check_open(locked)
    part = UploadPart.objects.filter(upload=upload, number=number).first()
    replaced = None
    if part is None:
        part = UploadPart.objects.create(
            upload=upload,
            number=number,
            offset_bytes=(number - 1) * upload.part_size_bytes,
            size_bytes=size,
            sha256=digest,
            name=stored,
        )
    elif part.sha256 != digest:
        replaced = part.name
        part.sha256, part.name, part.created_at = digest, stored, timezone.now()
        part.save(update_fields=["sha256", "name", "created_at"])
    received = UploadPart.objects.filter(upload=upload).aggregate(
        total=Sum("size_bytes")
    )
    Upload.objects.filter(pk=upload.pk).update(
        received_bytes=received["total"] or 0,
        expires_at=_expiry(),
        updated_at=timezone.now(),
    )
    return part, replaced


def upload_complete(*, upload: Upload) -> VideoCreated:
    """Finish a multipart upload: every part in, size and SHA-256 verified, the Video made.

    Completing again answers the same video.
    """
    if upload.status == Upload.Status.COMPLETED and upload.video_id:
        return _created_again(upload)
    upload_check_open(upload)
    have = set(
        UploadPart.objects.filter(upload=upload).values_list("number", flat=True)
    )
    missing = [n for n in range(1, upload.part_count + 1) if n not in have]
    if missing:
        shown = ", ".join(str(n) for n in missing[:20])
        more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
        raise UploadConflict(
            f"Parts missing: {shown}{more}.", missing_parts=missing[:1000]
        )
    return upload_finish(upload=upload)


# both -----------------------------------------------------------------------


def upload_finish(*, upload: Upload) -> VideoCreated:
    """Assemble the pieces in order, verify size and SHA-256, probe, make the Video.

    Claimed by one request at a time. A refusal of the content (checksum,
    not a video, over a limit) fails the upload and deletes its pieces; any
    other error (storage) leaves it receiving, to be finished again.
    """
    claimed = Upload.objects.filter(
        pk=upload.pk, status=Upload.Status.RECEIVING
    ).update(status=Upload.Status.ASSEMBLING, updated_at=timezone.now())
    if not claimed:
        upload.refresh_from_db()
        if upload.status == Upload.Status.COMPLETED and upload.video_id:
            return _created_again(upload)
        raise UploadConflict(f"The upload is {upload.status}.")
    try:
        known_digest = _running_hash_digest(upload)
        with work_dir("uploads", upload.id) as scratch:
            assembled = scratch / "assembled"
            digest = _assemble(upload, assembled, known_digest)
            created = video_create_from_file(
                path=assembled,
                owner=upload.owner,
                title=upload.title,
                filename=upload.filename,
                upload_method=upload.protocol,
                sha256=digest,
                upload=upload,
            )
    except VideoError as error:
        _fail(upload, error.detail)
        raise
    except BaseException:
        Upload.objects.filter(pk=upload.pk, status=Upload.Status.ASSEMBLING).update(
            status=Upload.Status.RECEIVING
        )
        raise
    transaction.on_commit(lambda: _pieces_delete(upload.pk))
    upload.refresh_from_db()
    logger.info(
        "upload_completed upload_id=%s video_id=%s", upload.id, created.video.id
    )
    return created


def _assemble(upload: Upload, destination: Path, digest: str | None) -> str:
    """Write the pieces in order to `destination`; the SHA-256 of the whole, verified.

    `digest` is the whole file's SHA-256 if it is already known (hashed as
    it arrived); otherwise the pieces are hashed on the way.
    """
    parts = list(UploadPart.objects.filter(upload=upload).order_by("offset_bytes"))
    expected_offset = 0
    for part in parts:
        if part.offset_bytes != expected_offset:
            raise UploadVerificationFailed(
                f"Piece {part.number} starts at byte {part.offset_bytes}, "
                f"not {expected_offset}."
            )
        expected_offset += part.size_bytes
    paths = [local_path(part.name) for part in parts]
    if digest and len(parts) == 1 and _link(paths[0], destination):
        # One piece, hashed as it arrived: the piece is the file. A link, so
        # the piece stays whole should anything below fail.
        return _verified(upload, destination.stat().st_size, digest)
    with open(destination, "wb") as out:
        if all(path is not None and path.is_file() for path in paths):
            # Local storage: the kernel copies (another thread hashes).
            digest = concatenate_local(paths, out, hash_them=not digest) or digest
        else:
            hashing = _Hashing(out, hashlib.sha256())
            for part in parts:
                copy_to(part.name, hashing)
            digest = digest or hashing.digest.hexdigest()
        out.seek(0, 2)
        size = out.tell()
    return _verified(upload, size, digest)


def _link(source: Path | None, destination: Path) -> bool:
    """Hard-link a local piece to `destination`; False where that is impossible."""
    if source is None:
        return False
    try:
        os.link(source, destination)
    except OSError:  # another file system, or no hard links
        return False
    return True


def _verified(upload: Upload, size: int, digest: str) -> str:
    if size != upload.size_bytes:
        raise UploadVerificationFailed(
            f"The upload has {size} bytes, {upload.size_bytes} were announced."
        )
    if upload.sha256 and digest != upload.sha256:
        raise UploadVerificationFailed(
            f"The SHA-256 of the upload is {digest}, not the {upload.sha256} announced."
        )
    return digest


class _Hashing:
    """A write-only file that hashes what passes through it."""

    def __init__(self, out: BinaryIO, digest):
        self.out = out
        self.digest = digest

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.out.write(data)


def _created_again(upload: Upload) -> VideoCreated:
    video = Video.objects.get(pk=upload.video_id)
    created = VideoCreated(video=video)
    for rendition in video.renditions.filter(profile__is_default=True):
        job = job_selectors.job_latest_for_target(
            target=rendition, job_type=PROXY_JOB_TYPE
        )
        if job is not None:
            created.jobs["proxy"] = job
    return created


def _fail(upload: Upload, error: str) -> None:
    Upload.objects.filter(pk=upload.pk).update(
        status=Upload.Status.FAILED,
        error_message=error[:2000],
        updated_at=timezone.now(),
    )
    _pieces_delete(upload.pk)
    logger.info("upload_failed upload_id=%s error=%s", upload.id, error)


def _pieces_delete(upload_id) -> None:
    UploadPart.objects.filter(upload_id=upload_id).delete()
    delete_tree(upload_folder(upload_id))


def upload_abort(*, upload: Upload) -> Upload:
    """Abort an unfinished upload and delete what it received (tus termination, multipart abort).

    Aborting again is a no-op; an upload that became a video cannot be aborted.
    """
    if upload.status == Upload.Status.COMPLETED:
        raise UploadConflict(
            f"The upload became video {upload.video_id}; delete the video instead."
        )
    ended = Upload.objects.filter(
        pk=upload.pk, status__in=[Upload.Status.RECEIVING, Upload.Status.ASSEMBLING]
    ).update(status=Upload.Status.ABORTED, updated_at=timezone.now())
    if ended or upload.status in GONE:
        _pieces_delete(upload.pk)
    upload.refresh_from_db()
    return upload


def upload_expire(*, upload: Upload) -> bool:
    """Expire an upload whose time ran out; False if it had already ended (or got data meanwhile)."""
    expired = Upload.objects.filter(
        pk=upload.pk, status=Upload.Status.RECEIVING, expires_at__lte=timezone.now()
    ).update(status=Upload.Status.EXPIRED, updated_at=timezone.now())
    if expired:
        _pieces_delete(upload.pk)
    return bool(expired)


def uploads_expire() -> int:
    """Expire every upload past its time (the periodic job); how many were expired."""
    due = Upload.objects.filter(
        status=Upload.Status.RECEIVING, expires_at__lte=timezone.now()
    ).only("pk")
    return sum(1 for upload in due if upload_expire(upload=upload))


def uploads_finish_stalled(*, older_than_s: float = 15 * 60) -> int:
    """Finish uploads left `assembling` by a process that died (every byte was in).

    Whatever refuses the content fails the upload as usual; how many were
    tried again.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    stalled = Upload.objects.filter(
        status=Upload.Status.ASSEMBLING, updated_at__lt=cutoff
    ).values_list("pk", flat=True)
    tried = 0
    for upload_id in stalled:
        reset = Upload.objects.filter(
            pk=upload_id, status=Upload.Status.ASSEMBLING, updated_at__lt=cutoff
        ).update(status=Upload.Status.RECEIVING)
        if not reset:
            continue
        tried += 1
        try:
            upload_finish(upload=Upload.objects.get(pk=upload_id))
        except VideoError:
            pass  # failed by upload_finish, with its reason
        except Exception:
            logger.exception("finishing the stalled upload %s failed", upload_id)
    return tried


def upload_direct(
    *, owner: Any, file: BinaryIO, filename: str, title: str = "", size_bytes: int
) -> VideoCreated:
    """A video sent whole in one request: copied to scratch while hashed, then made a Video."""
    if size_bytes > settings.VIDEOS_DIRECT_UPLOAD_MAX_BYTES:
        raise VideoLimitExceeded(
            f"The file has {size_bytes} bytes; one request takes at most "
            f"{settings.VIDEOS_DIRECT_UPLOAD_MAX_BYTES}: use the tus or multipart upload.",
            limit="size",
        )
    return _video_from_stream(
        owner=owner,
        stream=file,
        filename=filename,
        title=title,
        size_bytes=size_bytes,
        method=Video.UploadMethod.DIRECT,
    )


def video_import(*, owner: Any, path: Path, title: str = "") -> VideoCreated:
    """An operator's local file as a video of `owner` (copied; the file is left as it is)."""
    with open(path, "rb") as local:
        return _video_from_stream(
            owner=owner,
            stream=local,
            filename=path.name,
            title=title,
            size_bytes=path.stat().st_size,
            method=Video.UploadMethod.IMPORT,
        )


def _video_from_stream(
    *,
    owner: Any,
    stream: BinaryIO,
    filename: str,
    title: str,
    size_bytes: int,
    method: str,
) -> VideoCreated:
    _checked_size(size_bytes)
    with work_dir("direct", secrets.token_hex(8)) as scratch:
        local = scratch / "upload"
        reader = MeteredReader(stream, limit=size_bytes)
        with open(local, "wb") as out:
            while chunk := reader.read(1024 * 1024):
                out.write(chunk)
        return video_create_from_file(
            path=local,
            owner=owner,
            title=title,
            filename=filename,
            upload_method=method,
            sha256=reader.sha256.hexdigest(),
        )
