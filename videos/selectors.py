"""Reads of videos, renditions, profiles and uploads; visibility (`user=`) is decided here."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.db.models import QuerySet

from jobs import selectors as job_selectors
from jobs.models import ProcessingJob
from videos.models import EncodingProfile
from videos.models import Rendition
from videos.models import Upload
from videos.models import UploadPart
from videos.models import Video

VIDEO_JOB_PREFIX = "videos."


def _visible(queryset: QuerySet, *, user: Any, owner_path: str) -> QuerySet:
    """All rows for staff (or user=None: internal callers), own rows for other users."""
    if user is None or getattr(user, "is_staff", False):
        return queryset
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    return queryset.filter(**{owner_path: user})


def _renditions_prefetch() -> Prefetch:
    return Prefetch(
        "renditions",
        queryset=Rendition.objects.select_related("profile").order_by(
            "-profile__is_default", "profile__height", "pk"
        ),
    )


def video_list(*, user: Any = None) -> QuerySet[Video]:
    """Videos the user may see, newest first, with owner and renditions (and their profiles) loaded."""
    videos = Video.objects.select_related("owner").prefetch_related(
        _renditions_prefetch()
    )
    return _visible(videos, user=user, owner_path="owner")


def video_get(*, video_id: Any, user: Any = None) -> Video:
    """One visible video; Video.DoesNotExist otherwise (also for a malformed id)."""
    return video_list(user=user).get(pk=video_id)


def video_proxy(*, video: Video) -> Rendition | None:
    """The video's rendition of the default profile (uses a prefetch when present)."""
    for rendition in video.renditions.all():
        if rendition.profile.is_default:
            return rendition
    return None


def video_jobs(*, video: Video) -> list[ProcessingJob]:
    """The latest job of each type for the video and its renditions, newest first."""
    latest: dict[tuple[str, str], ProcessingJob] = {}
    targets = [video, *video.renditions.all()]
    for target in targets:
        for job in job_selectors.job_list_for_target(target=target)[:20]:
            latest.setdefault((job.job_type, job.object_id), job)
    return sorted(latest.values(), key=lambda job: job.queued_at, reverse=True)


def rendition_list(*, user: Any = None) -> QuerySet[Rendition]:
    """Renditions of the videos the user may see, with video, owner and profile loaded."""
    renditions = Rendition.objects.select_related(
        "video", "video__owner", "profile"
    ).order_by("-created_at", "-pk")
    return _visible(renditions, user=user, owner_path="video__owner")


def rendition_get(*, rendition_id: Any, user: Any = None) -> Rendition:
    """One visible rendition; Rendition.DoesNotExist otherwise."""
    return rendition_list(user=user).get(pk=rendition_id)


def profile_list(*, active_only: bool = False) -> QuerySet[EncodingProfile]:
    """Encoding profiles, the default first."""
    profiles = EncodingProfile.objects.all()
    return profiles.filter(is_active=True) if active_only else profiles


def profile_default() -> EncodingProfile | None:
    """The proxy profile, if one is marked default."""
    return EncodingProfile.objects.filter(is_default=True).first()


def upload_list(*, user: Any = None, protocol: str | None = None) -> QuerySet[Upload]:
    """Uploads the user may see, newest first, with the numbers of the parts received."""
    uploads = Upload.objects.select_related("owner").prefetch_related(
        Prefetch("parts", queryset=UploadPart.objects.only("upload_id", "number"))
    )
    if protocol is not None:
        uploads = uploads.filter(protocol=protocol)
    return _visible(uploads, user=user, owner_path="owner")


def upload_get(
    *, upload_id: Any, user: Any = None, protocol: str | None = None
) -> Upload:
    """One visible upload; Upload.DoesNotExist otherwise."""
    return upload_list(user=user, protocol=protocol).get(pk=upload_id)


def upload_processing_job(*, upload: Upload) -> ProcessingJob | None:
    """The proxy job of the video an upload became, if any."""
    if not upload.video_id:
        return None
    rendition = (
        Rendition.objects.filter(video_id=upload.video_id, profile__is_default=True)
        .only("pk", "job_id")
        .first()
    )
    if rendition is None or rendition.job_id is None:
        return None
    return job_selectors.job_list(filters={"id": rendition.job_id}).first()


def video_job_get(*, job_id: Any, user: Any = None) -> ProcessingJob:
    """A job of the videos app whose video the user may see; ProcessingJob.DoesNotExist otherwise."""
    job = job_selectors.job_list(
        filters={"id": job_id, "job_type__startswith": VIDEO_JOB_PREFIX}
    ).first()
    if job is None or video_for_job(job=job, user=user) is None:
        raise ProcessingJob.DoesNotExist(f"no video job {job_id}")
    return job


def video_for_job(*, job: ProcessingJob, user: Any = None) -> Video | None:
    """The video a job works on (directly, or through a rendition), if the user may see it."""
    model = job.content_type.model_class() if job.content_type_id else None
    if model is Video:
        return video_list(user=user).filter(pk=job.object_id).first()
    if model is Rendition:
        rendition = rendition_list(user=user).filter(pk=job.object_id).first()
        return rendition.video if rendition is not None else None
    return None


def video_job_status_fields(job: ProcessingJob) -> dict[str, Any]:
    """Fields a video job adds to its task status: the video, and the rendition for a proxy."""
    model = job.content_type.model_class() if job.content_type_id else None
    if model is Video:
        return {"video_id": job.object_id}
    if model is Rendition:
        rendition = Rendition.objects.filter(pk=job.object_id).only("video_id").first()
        return {
            "video_id": str(rendition.video_id) if rendition else None,
            "rendition_id": int(job.object_id),
        }
    return {}
