"""Importing photos: checked by content, stored once per owner, analysis queued on commit."""

import hashlib
import logging
import re
import uuid
from dataclasses import dataclass
from dataclasses import field
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError
from django.db import transaction

from jobs import services as job_services
from jobs.models import ProcessingJob
from photos import formats
from photos import quality
from photos import selectors
from photos.errors import MalformedPhoto
from photos.errors import PhotoError
from photos.errors import PhotoTooLarge
from photos.models import Photo
from photos.models import PhotoSession
from photos.models import original_upload_to
from photos.services.sessions import session_get_or_create
from photos.services.storage import files_delete

logger = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_NAME_LENGTH = 255


@dataclass
class ImportResult:
    """The stored photo, whether this import created it, and the jobs it queued."""

    photo: Photo
    created: bool
    jobs: list[ProcessingJob] = field(default_factory=list)


@dataclass
class FileOutcome:
    """What became of one file of a multi-file import: a photo, or the refusal."""

    name: str
    result: ImportResult | None = None
    error: PhotoError | None = None

    @property
    def status(self) -> int:
        """The HTTP status this file alone would get."""
        if self.error is not None:
            return self.error.status
        return 201 if self.result.created else 200


def clean_file_name(name: str) -> str:
    """The base name of a client's file name, without control characters."""
    base = PurePosixPath(str(name or "").replace("\\", "/")).name
    return _CONTROL.sub("", base).strip()[:MAX_NAME_LENGTH]


def size_check(size: int) -> None:
    """Refuse a file larger than PHOTOS_MAX_UPLOAD_BYTES (413) before it is read."""
    limit = settings.PHOTOS_MAX_UPLOAD_BYTES
    if size > limit:
        raise PhotoTooLarge(
            f"the file is {size} bytes; the limit is {limit} bytes",
            code="file_too_large",
            limit_bytes=limit,
        )


def _intake_jobs(photo: Photo, *, submitted_by: Any) -> list[ProcessingJob]:
    """EXIF first (high queue, seconds), then the whole analysis (medium)."""
    priority = quality.priority_for(None)
    return job_services.job_submit_batch(
        items=[
            {"job_type": selectors.EXIF_JOB_TYPE, "target": photo},
            {"job_type": selectors.ANALYZE_JOB_TYPE, "target": photo},
        ],
        priority=priority,
        submitted_by=submitted_by,
    )


def photo_import(
    *,
    owner: Any,
    data: bytes,
    name: str = "",
    session: PhotoSession | None = None,
    analyze: bool | None = None,
) -> ImportResult:
    """Store a photo and queue its EXIF and analysis jobs (sent on commit).

    Idempotent per owner and content: the same bytes answer the photo stored
    before (created=False). The format comes from the content and the pixel
    count from the header, before anything is stored; refusals raise the
    photos.errors types (400/413/415) and leave nothing behind.
    """
    if session is not None and session.owner_id != owner.pk:
        raise MalformedPhoto(
            "the session belongs to another user", code="invalid_session"
        )
    size_check(len(data))
    digest = hashlib.sha256(data).hexdigest()
    existing = selectors.photo_duplicate_get(owner=owner, sha256=digest)
    if existing is not None:
        return ImportResult(photo=existing, created=False)
    info = formats.inspect_photo(data, max_pixels=settings.PHOTOS_MAX_PIXELS)
    photo = Photo(
        owner=owner,
        session=session,
        original_name=clean_file_name(name),
        sha256=digest,
        format=info.format.name,
        content_type=info.format.content_type,
        size_bytes=len(data),
        width=info.width,
        height=info.height,
        orientation=info.orientation,
    )
    # A name of its own per attempt: two imports racing on the same bytes
    # never share (and so never delete) each other's file.
    upload_name = f"{uuid.uuid4().hex[:8]}{info.format.extension}"
    stored = default_storage.save(
        original_upload_to(photo, upload_name), ContentFile(data)
    )
    photo.original.name = stored
    if analyze is None:
        analyze = settings.PHOTOS_AUTO_ANALYZE
    try:
        with transaction.atomic():
            photo.full_clean(validate_unique=False, validate_constraints=False)
            photo.save(force_insert=True)
            jobs = _intake_jobs(photo, submitted_by=owner) if analyze else []
    except IntegrityError:
        files_delete([stored])
        existing = selectors.photo_duplicate_get(owner=owner, sha256=digest)
        if existing is None:
            raise
        return ImportResult(photo=existing, created=False)
    except BaseException:
        files_delete([stored])
        raise
    logger.info(
        "photo_imported photo_id=%s owner=%s format=%s size_bytes=%s",
        photo.pk,
        owner.pk,
        photo.format,
        photo.size_bytes,
    )
    return ImportResult(photo=photo, created=True, jobs=jobs)


def photos_import_files(
    *,
    owner: Any,
    files: list[Any],
    session: PhotoSession | None = None,
    analyze: bool | None = None,
) -> list[FileOutcome]:
    """Import uploaded files one by one: each is stored or refused on its own.

    A refused file (not a photo, too large, too many pixels, unreadable
    header) is reported by name and never stops the others.
    """
    outcomes = []
    for uploaded in files:
        name = clean_file_name(getattr(uploaded, "name", ""))
        try:
            size_check(uploaded.size)
            uploaded.seek(0)
            data = uploaded.read()
            result = photo_import(
                owner=owner, data=data, name=name, session=session, analyze=analyze
            )
        except PhotoError as exc:
            outcomes.append(FileOutcome(name=name, error=exc))
            continue
        outcomes.append(FileOutcome(name=name, result=result))
    return outcomes


def photo_delete(*, photo: Photo) -> None:
    """Delete a photo, its exports and every file of theirs (after the commit)."""
    names = [
        photo.original.name,
        photo.thumbnail.name,
        photo.preview.name,
        photo.developed.name,
        photo.sidecar.name,
        *photo.exports.exclude(file="").values_list("file", flat=True),
    ]
    with transaction.atomic():
        photo.delete()
        transaction.on_commit(lambda: files_delete(names))


def photos_upload(
    *,
    owner: Any,
    files: list[Any],
    session: PhotoSession | None = None,
    session_name: str = "",
) -> list[FileOutcome]:
    """Import an upload's files, into `session` or the owner's session of that name.

    A session created for this upload is removed again when no file of it
    was stored, so a refused upload leaves nothing behind.
    """
    created_session = False
    if session is None and session_name.strip():
        session, created_session = session_get_or_create(owner=owner, name=session_name)
    outcomes = photos_import_files(owner=owner, files=files, session=session)
    if created_session and not any(outcome.result for outcome in outcomes):
        session.delete()
    return outcomes
