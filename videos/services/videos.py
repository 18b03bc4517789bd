"""Videos: created from a verified local file, their metadata and thumbnails, re-runs, deletion."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from jobs import selectors as job_selectors
from jobs import services as job_services
from jobs.errors import JobStateConflict
from jobs.files import delete_quietly
from jobs.files import local_copy
from jobs.models import ProcessingJob
from videos import isolated
from videos.errors import VideoError
from videos.models import EncodingProfile
from videos.models import Upload
from videos.models import Video
from videos.probe import VideoMetadata
from videos.services.common import ANALYZE_JOB_TYPE
from videos.services.common import EXTENSIONS
from videos.services.common import METADATA_JOB_TYPE
from videos.services.common import RERUN_PRIORITY
from videos.services.common import THUMBNAIL_JOB_TYPE
from videos.services.common import decoder_options
from videos.services.common import permanent
from videos.services.common import submit_once
from videos.services.common import video_folder
from videos.services.common import video_limits
from videos.services.renditions import rendition_request
from videos.storage_io import delete_tree
from videos.storage_io import save_local_file

logger = logging.getLogger("videos")

HASH_CHUNK_BYTES = 1024 * 1024
JOB_NAMES = ("metadata", "thumbnail", "proxy", "analyze")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass
class VideoCreated:
    """A new video and the jobs queued for it (sent once the transaction commits)."""

    video: Video
    jobs: dict[str, ProcessingJob] = field(default_factory=dict)

    @property
    def processing_job(self) -> ProcessingJob | None:
        """The job a client should poll: the proxy, else the first job queued."""
        return self.jobs.get("proxy") or next(iter(self.jobs.values()), None)


def clean_filename(filename: str) -> str:
    """A client's file name reduced to a harmless base name (no folders, no control characters)."""
    base = re.split(r"[/\\]", filename or "")[-1]
    return _UNSAFE_NAME.sub("", base).strip()[:255]


def file_sha256(path: Path) -> str:
    """SHA-256 of a local file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as local:
        while chunk := local.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def metadata_fields(metadata: VideoMetadata) -> dict[str, Any]:
    """Video columns from what the header says, and the whole reading as JSON."""
    return {
        "container": metadata.container,
        "duration_s": metadata.duration_s,
        "width": metadata.width,
        "height": metadata.height,
        "fps": metadata.fps,
        "video_codec": metadata.video_codec,
        "audio_codec": metadata.audio_codec or "",
        "rotation": metadata.rotation,
        "bitrate": metadata.bitrate,
        "creation_time": metadata.creation_time,
        "metadata": metadata.as_dict(),
        "metadata_read_at": timezone.now(),
    }


def video_create_from_file(
    *,
    path: Path,
    owner: Any,
    title: str = "",
    filename: str = "",
    upload_method: str = Video.UploadMethod.DIRECT,
    sha256: str | None = None,
    upload: Upload | None = None,
) -> VideoCreated:
    """Turn a verified local file into a Video, and queue its thumbnail, proxy and analysis.

    The file is probed first in the decoder sandbox (content sniffed, limits
    checked from the header, one frame decoded): UnsupportedVideo (415),
    VideoLimitExceeded (413) or CorruptVideo (422) leave nothing behind. The
    file is then moved (local storage) or uploaded (a bucket) into storage;
    the caller removes `path` if it is still there.
    """
    metadata = isolated.probe(path, limits=video_limits(), **decoder_options())
    size_bytes = path.stat().st_size
    sha256 = sha256 or file_sha256(path)
    video = Video(
        owner=owner,
        title=(title or "").strip()[:200] or Path(clean_filename(filename)).stem[:200],
        original_filename=clean_filename(filename),
        size_bytes=size_bytes,
        sha256=sha256,
        upload_method=upload_method,
        **metadata_fields(metadata),
    )
    name = f"{video_folder(video.id)}/original.{EXTENSIONS[metadata.container]}"
    video.original = save_local_file(path, name)
    try:
        with transaction.atomic():
            video.full_clean()
            video.save(force_insert=True)
            if upload is not None:
                Upload.objects.filter(pk=upload.pk).update(
                    status=Upload.Status.COMPLETED,
                    video=video,
                    completed_at=timezone.now(),
                    error_message="",
                )
            jobs = video_processing_submit(video=video, submitted_by=owner)
    except BaseException:
        delete_quietly(video.original.name)
        raise
    logger.info(
        "video_created video_id=%s owner=%s method=%s size=%s container=%s",
        video.id,
        owner.pk,
        upload_method,
        size_bytes,
        metadata.container,
    )
    return VideoCreated(video=video, jobs=jobs)


def video_processing_submit(
    *, video: Video, submitted_by: Any = None, priority: int | None = None
) -> dict[str, ProcessingJob]:
    """Queue a new video's jobs: thumbnail, the proxy and other automatic renditions, analysis."""
    jobs = {}
    jobs["thumbnail"], _ = submit_once(
        job_type=THUMBNAIL_JOB_TYPE,
        target=video,
        submitted_by=submitted_by,
        priority=priority,
    )
    profiles = EncodingProfile.objects.filter(is_active=True).exclude(
        is_default=False, is_auto=False
    )
    for profile in profiles.order_by("-is_default", "height"):
        _, job = rendition_request(
            video=video, profile=profile, submitted_by=submitted_by, priority=priority
        )
        jobs["proxy" if profile.is_default else f"rendition:{profile.slug}"] = job
    if "proxy" not in jobs:
        # No proxy profile configured: the original is all there is.
        Video.objects.filter(pk=video.pk).update(status=Video.Status.READY)
        video.status = Video.Status.READY
    if settings.VIDEOS_ANALYZE_AUTO:
        jobs["analyze"], _ = submit_once(
            job_type=ANALYZE_JOB_TYPE,
            target=video,
            submitted_by=submitted_by,
            priority=priority,
        )
    return jobs


def video_reprocess(
    *,
    video: Video,
    jobs: list[str],
    submitted_by: Any = None,
    profile: EncodingProfile | None = None,
    thumbnail_at_s: float | None = None,
) -> dict[str, ProcessingJob]:
    """Queue the named jobs again (metadata, thumbnail, proxy, analyze) at user priority.

    A job of the same kind already queued or running is reused, not doubled.
    `profile` picks the rendition "proxy" makes (default: the default profile).
    """
    unknown = sorted(set(jobs) - set(JOB_NAMES))
    if unknown or not jobs:
        raise ValidationError(
            {"jobs": f"name one or more of {', '.join(JOB_NAMES)}; unknown: {unknown}"}
        )
    if thumbnail_at_s is not None and (
        thumbnail_at_s < 0 or (video.duration_s and thumbnail_at_s > video.duration_s)
    ):
        raise ValidationError(
            {
                "at_s": f"{thumbnail_at_s} s is outside the video (0-{video.duration_s} s)"
            }
        )
    submitted = {}
    simple = {
        "metadata": (METADATA_JOB_TYPE, None),
        "thumbnail": (
            THUMBNAIL_JOB_TYPE,
            {"at_s": thumbnail_at_s} if thumbnail_at_s is not None else None,
        ),
        "analyze": (ANALYZE_JOB_TYPE, None),
    }
    with transaction.atomic():
        for name in jobs:
            if name == "proxy":
                chosen = (
                    profile or EncodingProfile.objects.filter(is_default=True).first()
                )
                if chosen is None:
                    raise JobStateConflict("no default encoding profile is configured")
                _, submitted[name] = rendition_request(
                    video=video,
                    profile=chosen,
                    submitted_by=submitted_by,
                    priority=RERUN_PRIORITY,
                )
                continue
            job_type, params = simple[name]
            submitted[name], _ = submit_once(
                job_type=job_type,
                target=video,
                params=params,
                submitted_by=submitted_by,
                priority=RERUN_PRIORITY,
            )
    return submitted


def video_update(*, video: Video, title: str) -> Video:
    """Change what the owner may change: the title."""
    video.title = title.strip()[:200]
    video.full_clean()
    video.save(update_fields=["title", "updated_at"])
    return video


def video_delete(*, video: Video, deleted_by: Any = None) -> int:
    """Delete a video with its renditions and files; its active jobs are cancelled first.

    Returns how many stored files were deleted.
    """
    targets = [video, *video.renditions.all()]
    for target in targets:
        for job in job_selectors.job_list_for_target(
            target=target, statuses=ProcessingJob.ACTIVE_STATUSES
        ):
            with contextlib.suppress(JobStateConflict):  # it finished meanwhile
                job_services.job_cancel(job_id=job.id, cancelled_by=deleted_by)
    folder = video_folder(video.id)
    video.delete()
    deleted = delete_tree(folder)
    logger.info("video_deleted video_id=%s files=%s", folder, deleted)
    return deleted


def video_metadata_read(*, video_id: str) -> dict[str, Any]:
    """Read the stored original's metadata again (decoder sandbox) and record it. Idempotent."""
    video = Video.objects.get(pk=video_id)
    try:
        with local_copy(video.original.name) as path:
            metadata = isolated.probe(path, limits=video_limits(), **decoder_options())
    except VideoError as error:
        raise permanent(error) from error
    Video.objects.filter(pk=video_id).update(**metadata_fields(metadata))
    return {"video_id": str(video.id), "metadata": metadata.as_dict()}


def video_mark_failed(*, video_id: str, error: str) -> None:
    """The metadata job failed for good: the stored original cannot be read."""
    Video.objects.filter(pk=video_id).update(
        status=Video.Status.FAILED, error_message=error[:2000]
    )


def video_thumbnail_make(*, video_id: str, at_s: float | None = None) -> dict[str, Any]:
    """Make the poster frame (exact frame at `at_s`, default a share of the duration) and contact sheet.

    Idempotent: both go under fixed names in the video's folder, replacing
    earlier ones.
    """
    video = Video.objects.get(pk=video_id)
    if at_s is None and video.duration_s:
        at_s = video.duration_s * settings.VIDEOS_THUMBNAIL_POSITION
    try:
        with local_copy(video.original.name) as path:
            made = isolated.thumbnails(
                path,
                at_s=at_s,
                max_size=settings.VIDEOS_THUMBNAIL_MAX_SIZE,
                sheet_frames=settings.VIDEOS_CONTACT_SHEET_FRAMES,
                sheet_columns=settings.VIDEOS_CONTACT_SHEET_COLUMNS,
                limits=video_limits(),
                **decoder_options(),
            )
    except VideoError as error:
        raise permanent(error) from error
    folder = video_folder(video.id)
    poster = _replace(f"{folder}/thumbnail.jpg", made.picture.jpeg)
    sheet = (
        _replace(f"{folder}/contact-sheet.jpg", made.sheet.jpeg) if made.sheet else ""
    )
    Video.objects.filter(pk=video_id).update(
        thumbnail=poster,
        thumbnail_at_s=made.picture.at_s,
        contact_sheet=sheet,
        contact_sheet_times_s=made.sheet.times_s if made.sheet else [],
        thumbnail_error="",
    )
    return {
        "video_id": str(video.id),
        "thumbnail_path": poster,
        "at_s": made.picture.at_s,
        "width": made.picture.width,
        "height": made.picture.height,
        "contact_sheet_path": sheet,
        "contact_sheet_times_s": made.sheet.times_s if made.sheet else [],
    }


def video_thumbnail_mark_failed(*, video_id: str, error: str) -> None:
    """The thumbnail job failed for good: record why."""
    Video.objects.filter(pk=video_id).update(thumbnail_error=error[:2000])


def _replace(name: str, content: bytes) -> str:
    """Store `content` under exactly `name`, replacing what was there."""
    delete_quietly(name)
    return default_storage.save(name, ContentFile(content))
