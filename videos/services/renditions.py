"""Renditions: requesting one per video and profile, encoding it, cancelling it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from jobs import selectors as job_selectors
from jobs import services as job_services
from jobs.errors import JobNoLongerRunning
from jobs.errors import JobStateConflict
from jobs.files import delete_quietly
from jobs.files import local_copy
from jobs.models import ProcessingJob
from videos import isolated
from videos import transcode
from videos.errors import TranscodeCancelled
from videos.errors import VideoError
from videos.models import EncodingProfile
from videos.models import Rendition
from videos.models import Video
from videos.probe import VideoMetadata
from videos.services.common import PROXY_JOB_TYPE
from videos.services.common import Interrupted
from videos.services.common import decoder_options
from videos.services.common import permanent
from videos.services.common import sigterm_unwinds
from videos.services.common import submit_once
from videos.services.common import video_folder
from videos.services.common import video_limits
from videos.services.common import work_dir
from videos.storage_io import save_local_file

logger = logging.getLogger("videos")

Progress = Callable[[float, float, str], None]

METHOD_DETAIL = {
    "encode": "encoded from the original",
    "copy": "the original's streams copied into MP4 with +faststart, no re-encoding",
    "skip": "not re-encoded: the original already is such a file and serves as the rendition",
}


def profile_settings(profile: EncodingProfile) -> transcode.ProxySettings:
    """The transcode settings of a profile."""
    return transcode.ProxySettings(
        height=profile.height,
        fps=profile.fps,
        preset=profile.preset,
        crf=profile.crf,
        keyframe_interval_s=profile.keyframe_interval_s,
        audio_bitrate=profile.audio_bitrate,
        max_audio_channels=profile.max_audio_channels,
    )


def rendition_storage_name(rendition: Rendition) -> str:
    """Where a rendition's file lives: from the video's id and the profile's slug."""
    return f"{video_folder(rendition.video_id)}/renditions/{rendition.profile.slug}.mp4"


def rendition_request(
    *,
    video: Video,
    profile: EncodingProfile,
    submitted_by: Any = None,
    priority: int | None = None,
) -> tuple[Rendition, ProcessingJob]:
    """Make sure a rendition of this profile exists and a job makes it (an active one is reused)."""
    if not profile.is_active:
        raise JobStateConflict(f"the profile {profile.slug!r} is not active")
    with transaction.atomic():
        rendition, _ = Rendition.objects.select_related("profile").get_or_create(
            video=video, profile=profile
        )
        job, created = submit_once(
            job_type=PROXY_JOB_TYPE,
            target=rendition,
            submitted_by=submitted_by,
            priority=priority,
        )
        if created:
            Rendition.objects.filter(pk=rendition.pk).update(
                status=Rendition.Status.PENDING,
                progress=0,
                job_id=job.id,
                error_message="",
                started_at=None,
                completed_at=None,
            )
            if profile.is_default:
                _video_status_set(video.id, Video.Status.PROCESSING, "")
    rendition.refresh_from_db()
    return rendition, job


def rendition_generate(
    *, rendition_id: int, job_id: str, progress: Progress | None = None
) -> dict[str, Any]:
    """Encode (or copy, or skip) one rendition from the video's original.

    Idempotent: the output name comes from the video and profile, a rerun
    starts from a clean scratch folder and replaces the file. Progress is
    frames done of frames expected; a cancel (JobNoLongerRunning from
    `progress`, or the worker's SIGTERM) stops ffmpeg within a second and
    leaves no partial file.
    """
    rendition = Rendition.objects.select_related("video", "profile").get(
        pk=rendition_id
    )
    video = rendition.video
    Rendition.objects.filter(pk=rendition_id).update(
        status=Rendition.Status.RUNNING,
        progress=0,
        job_id=job_id,
        error_message="",
        started_at=timezone.now(),
        completed_at=None,
    )
    reporter = _Reporter(rendition_id, progress)
    with sigterm_unwinds():
        try:
            with (
                work_dir("renditions", rendition_id) as scratch,
                local_copy(video.original.name) as source,
            ):
                # Probed in the decoder sandbox, so make_proxy decodes
                # nothing of the untrusted file in this process.
                metadata = isolated.probe(
                    source, limits=video_limits(), **decoder_options()
                )
                result = transcode.make_proxy(
                    source,
                    scratch / "rendition.mp4",
                    settings=profile_settings(rendition.profile),
                    metadata=metadata,
                    on_progress=reporter,
                )
                stored_name = _store(rendition, result)
        except (JobNoLongerRunning, TranscodeCancelled, Interrupted, SystemExit):
            # SystemExit: a Celery pool process told to end (a cancel).
            _rendition_stopped(rendition_id, job_id)
            raise
        except VideoError as error:
            raise permanent(error) from error
    return _finish(rendition, result, stored_name, job_id)


class _Reporter:
    """ffmpeg's frames done → the job's progress, and the rendition's (when the percent moves)."""

    def __init__(self, rendition_id: int, progress: Progress | None):
        self.rendition_id = rendition_id
        self.progress = progress
        self.percent = -1

    def __call__(self, done: int, expected: int) -> None:
        if self.progress is not None:
            self.progress(done, expected, f"encoding: frame {done} of {expected}")
        percent = min(100, int(done * 100 / max(1, expected)))
        if percent != self.percent:
            self.percent = percent
            Rendition.objects.filter(
                pk=self.rendition_id, status=Rendition.Status.RUNNING
            ).update(progress=percent)


def _store(rendition: Rendition, result: transcode.ProxyResult) -> str:
    """Put the finished file in storage under its fixed name; "" when skipped."""
    if result.method == "skip":
        return ""
    name = rendition_storage_name(rendition)
    delete_quietly(name)
    return save_local_file(result.path, name)


def _finish(
    rendition: Rendition, result: transcode.ProxyResult, stored_name: str, job_id: str
) -> dict[str, Any]:
    video = rendition.video
    output: VideoMetadata = result.metadata
    width, height = output.display_size
    with transaction.atomic():
        updated = Rendition.objects.filter(
            pk=rendition.pk, status=Rendition.Status.RUNNING, job_id=job_id
        ).update(
            status=Rendition.Status.READY,
            progress=100,
            method=result.method,
            file=stored_name,
            size_bytes=output.size_bytes,
            width=width,
            height=height,
            fps=output.fps,
            duration_s=output.duration_s,
            metadata=output.as_dict(),
            error_message="",
            completed_at=timezone.now(),
        )
        if not updated:
            # Cancelled or superseded meanwhile: the file is not this job's to keep.
            if stored_name:
                transaction.on_commit(lambda: delete_quietly(stored_name))
            raise JobNoLongerRunning(
                f"rendition {rendition.pk} is no longer this job's"
            )
        if rendition.profile.is_default:
            _video_status_set(video.id, Video.Status.READY, "")
    proxy_path = stored_name or video.original.name
    logger.info(
        "rendition_ready rendition_id=%s video_id=%s profile=%s method=%s elapsed_s=%.2f",
        rendition.pk,
        video.id,
        rendition.profile.slug,
        result.method,
        result.elapsed_s,
    )
    return {
        "video_id": str(video.id),
        "rendition_id": rendition.pk,
        "profile": rendition.profile.slug,
        "method": result.method,
        "detail": METHOD_DETAIL[result.method],
        "proxy_path": proxy_path,
        "size_bytes": output.size_bytes,
        "elapsed_s": round(result.elapsed_s, 3),
        "metadata": output.as_dict(),
    }


def _rendition_stopped(rendition_id: int, job_id: str) -> None:
    """The job stopped mid-way: cancelled, or its process told to end."""
    try:
        job = job_selectors.job_list(filters={"id": job_id}).first()
        cancelled = job is None or job.status == ProcessingJob.Status.CANCELLED
        status = Rendition.Status.CANCELLED if cancelled else Rendition.Status.PENDING
        with transaction.atomic():
            rendition = (
                Rendition.objects.select_related("profile")
                .filter(pk=rendition_id, job_id=job_id)
                .first()
            )
            if rendition is None:
                return
            Rendition.objects.filter(pk=rendition_id, job_id=job_id).update(
                status=status,
                error_message="cancelled" if cancelled else "",
                completed_at=timezone.now() if cancelled else None,
            )
            if cancelled and rendition.profile.is_default:
                _video_status_set(rendition.video_id, Video.Status.CANCELLED, "")
    except (
        Exception
    ):  # the process may be ending: the watchdog and housekeeping catch up
        logger.exception("could not record the stop of rendition %s", rendition_id)


def rendition_mark_failed(*, rendition_id: int, error: str) -> None:
    """The rendition's job failed for good: record why (and on the video, for its proxy)."""
    with transaction.atomic():
        rendition = (
            Rendition.objects.select_related("profile").filter(pk=rendition_id).first()
        )
        if rendition is None:
            return
        Rendition.objects.filter(pk=rendition_id).update(
            status=Rendition.Status.FAILED,
            error_message=error[:2000],
            completed_at=timezone.now(),
        )
        if rendition.profile.is_default:
            _video_status_set(rendition.video_id, Video.Status.FAILED, error[:2000])


def rendition_mark_cancelled(*, rendition_id: int, reason: str = "cancelled") -> None:
    """The rendition's job was cancelled (the engine's on_cancel hook): record it."""
    rendition = (
        Rendition.objects.select_related("profile").filter(pk=rendition_id).first()
    )
    if rendition is None:
        return
    updated = Rendition.objects.filter(
        pk=rendition_id,
        status__in=[Rendition.Status.PENDING, Rendition.Status.RUNNING],
    ).update(
        status=Rendition.Status.CANCELLED,
        error_message=reason[:2000],
        completed_at=timezone.now(),
    )
    if updated and rendition.profile.is_default:
        _video_status_set(rendition.video_id, Video.Status.CANCELLED, "")


def rendition_cancel(*, rendition: Rendition, cancelled_by: Any = None) -> Rendition:
    """Cancel the job making this rendition (the encoder stops, nothing partial is kept)."""
    if rendition.job_id is None:
        raise JobStateConflict(f"rendition {rendition.pk} has no job to cancel")
    job_services.job_cancel(job_id=rendition.job_id, cancelled_by=cancelled_by)
    with transaction.atomic():
        Rendition.objects.filter(
            pk=rendition.pk,
            job_id=rendition.job_id,
            status__in=[Rendition.Status.PENDING, Rendition.Status.RUNNING],
        ).update(
            status=Rendition.Status.CANCELLED,
            error_message="cancelled",
            completed_at=timezone.now(),
        )
        if rendition.profile.is_default:
            _video_status_set(rendition.video_id, Video.Status.CANCELLED, "")
    rendition.refresh_from_db()
    return rendition


def renditions_reconcile() -> int:
    """Renditions whose job ended without telling them (cancelled while queued): record it."""
    open_renditions = list(
        Rendition.objects.filter(
            status__in=[Rendition.Status.PENDING, Rendition.Status.RUNNING],
            job_id__isnull=False,
        ).select_related("profile")
    )
    if not open_renditions:
        return 0
    jobs = {
        job.id: job
        for job in job_selectors.job_list(
            filters={"id__in": [rendition.job_id for rendition in open_renditions]}
        )
    }
    fixed = 0
    for rendition in open_renditions:
        job = jobs.get(rendition.job_id)
        if job is None or job.status == ProcessingJob.Status.CANCELLED:
            Rendition.objects.filter(pk=rendition.pk, job_id=rendition.job_id).update(
                status=Rendition.Status.CANCELLED, error_message="cancelled"
            )
            if rendition.profile.is_default:
                _video_status_set(rendition.video_id, Video.Status.CANCELLED, "")
            fixed += 1
        elif job.status == ProcessingJob.Status.FAILED:
            rendition_mark_failed(rendition_id=rendition.pk, error=job.error_message)
            fixed += 1
    return fixed


def _video_status_set(video_id, status: str, error: str) -> None:
    Video.objects.filter(pk=video_id).update(
        status=status, error_message=error, updated_at=timezone.now()
    )
