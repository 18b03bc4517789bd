"""Reads of the photos app; `user=` decides visibility here: staff see all, others their own."""

from collections.abc import Iterable
from typing import Any

from django.db.models import Count
from django.db.models import Prefetch
from django.db.models import Q
from django.db.models import QuerySet

from jobs import selectors as job_selectors
from jobs.models import ProcessingJob
from photos.models import Export
from photos.models import Photo
from photos.models import PhotoSession
from photos.models import Preset
from photos.models import SimilarGroup

ANALYZE_JOB_TYPE = "photos.analyze"
EXIF_JOB_TYPE = "photos.exif"
GROUP_JOB_TYPE = "photos.group"
APPLY_PRESET_JOB_TYPE = "photos.apply_preset"
EXPORT_JOB_TYPE = "photos.export"
JOB_TYPES = (
    ANALYZE_JOB_TYPE,
    EXIF_JOB_TYPE,
    GROUP_JOB_TYPE,
    APPLY_PRESET_JOB_TYPE,
    EXPORT_JOB_TYPE,
)
# Photos not yet through analysis: a session is finished when none are left.
UNFINISHED_STATUSES = (Photo.Status.PENDING,)


def _sees_all(user: Any) -> bool:
    return user is None or getattr(user, "is_staff", False)


def _owned(queryset: QuerySet, user: Any, field: str = "owner") -> QuerySet:
    if _sees_all(user):
        return queryset
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    return queryset.filter(**{field: user})


# PHOTOS -------------------------------------------------------------------


def photo_list(*, user: Any) -> QuerySet[Photo]:
    """Photos the user may see, newest first, with session, group, preset and owner loaded."""
    photos = Photo.objects.select_related(
        "owner", "session", "group", "preset", "developed_preset"
    )
    return _owned(photos, user)


def photo_get(*, user: Any, photo_id: Any) -> Photo:
    """One photo the user may see; Photo.DoesNotExist otherwise."""
    return photo_list(user=user).get(pk=photo_id)


def photo_list_for_ids(*, user: Any, photo_ids: Iterable[int]) -> list[Photo]:
    """The visible photos of these ids, in the order given; Photo.DoesNotExist names any missing."""
    ids = list(dict.fromkeys(photo_ids))
    found = {photo.pk: photo for photo in photo_list(user=user).filter(pk__in=ids)}
    missing = [photo_id for photo_id in ids if photo_id not in found]
    if missing:
        raise Photo.DoesNotExist(f"no photo with id {', '.join(map(str, missing))}")
    return [found[photo_id] for photo_id in ids]


def photo_duplicate_get(*, owner: Any, sha256: str) -> Photo | None:
    """The owner's photo with this content, if it was imported before."""
    return Photo.objects.filter(owner=owner, sha256=sha256).first()


def photos_without_active_job(
    *, photos: QuerySet[Photo], job_type: str
) -> QuerySet[Photo]:
    """These photos minus those with a queued, running or retrying job of this type."""
    return photos.filter(
        ~job_selectors.job_active_for_each_target(model=Photo, job_type=job_type)
    )


def photo_active_job(*, photo: Photo, job_type: str) -> ProcessingJob | None:
    """The photo's queued, running or retrying job of this type, if any."""
    return job_selectors.job_latest_for_target(
        target=photo, job_type=job_type, statuses=ProcessingJob.ACTIVE_STATUSES
    )


def photo_latest_job(*, photo: Photo, job_type: str) -> ProcessingJob | None:
    """The photo's most recently queued job of this type."""
    return job_selectors.job_latest_for_target(target=photo, job_type=job_type)


# SESSIONS -----------------------------------------------------------------

_COUNTED = {
    f"{status}_count": Count("photos", filter=Q(photos__status=status), distinct=True)
    for status in Photo.Status.values
}


def session_list(*, user: Any) -> QuerySet[PhotoSession]:
    """Sessions the user may see, newest first, with photo counts (total and by status)."""
    sessions = PhotoSession.objects.select_related("owner").annotate(
        photo_count=Count("photos", distinct=True),
        group_count=Count("groups", distinct=True),
        **_COUNTED,
    )
    return _owned(sessions, user).order_by("-created_at", "-id")


def session_get(*, user: Any, session_id: Any) -> PhotoSession:
    """One session the user may see, with its counts; PhotoSession.DoesNotExist otherwise."""
    return session_list(user=user).get(pk=session_id)


def session_counts_by_status(*, session: PhotoSession) -> dict[str, int]:
    """The session's photos per status (every status present, 0 when none)."""
    counts = dict.fromkeys(Photo.Status.values, 0)
    rows = session.photos.values("status").annotate(n=Count("id")).order_by()
    for row in rows:
        counts[row["status"]] = row["n"]
    return counts


def session_unfinished_count(
    *, session_id: int, exclude_photo_id: int | None = None
) -> int:
    """Photos of the session still pending or being analysed."""
    photos = Photo.objects.filter(session_id=session_id, status__in=UNFINISHED_STATUSES)
    if exclude_photo_id is not None:
        photos = photos.exclude(pk=exclude_photo_id)
    return photos.count()


def session_photos_for_grouping(*, session_id: int) -> QuerySet[Photo]:
    """The session's analysed photos that have a perceptual hash."""
    return (
        Photo.objects.filter(session_id=session_id, status=Photo.Status.ANALYZED)
        .exclude(phash="")
        .only("id", "phash", "taken_at", "score")
    )


def session_group_job_waiting(*, session: PhotoSession) -> ProcessingJob | None:
    """A grouping job of the session that is queued and has not started yet."""
    return job_selectors.job_waiting_for_target(target=session, job_type=GROUP_JOB_TYPE)


def session_groups_page(*, session: PhotoSession) -> dict[str, Any]:
    """The session's groups (photos best first) and its ungrouped photos, for the admin page."""
    group_photos = Photo.objects.order_by("-is_best_in_group", "taken_at", "id")
    groups = list(
        session.groups.select_related("best_photo").prefetch_related(
            Prefetch("photos", queryset=group_photos)
        )
    )
    ungrouped = list(
        session.photos.filter(group__isnull=True).order_by("taken_at", "id")
    )
    return {"groups": groups, "ungrouped": ungrouped}


# GROUPS -------------------------------------------------------------------


def group_list(*, user: Any) -> QuerySet[SimilarGroup]:
    """Similar groups the user may see, with their session, best photo and members."""
    members = Photo.objects.order_by("-is_best_in_group", "taken_at", "id").only(
        "id", "group_id", "is_best_in_group", "score", "taken_at"
    )
    groups = SimilarGroup.objects.select_related(
        "session", "best_photo"
    ).prefetch_related(Prefetch("photos", queryset=members))
    return _owned(groups, user)


# PRESETS ------------------------------------------------------------------


def preset_list(*, user: Any) -> QuerySet[Preset]:
    """Presets the user may use: shared ones and their own (staff: every preset)."""
    presets = Preset.objects.select_related("owner")
    if _sees_all(user):
        return presets
    if not getattr(user, "is_authenticated", False):
        return presets.none()
    return presets.filter(Q(owner__isnull=True) | Q(owner=user))


def preset_get(*, user: Any, preset_id: Any) -> Preset:
    """One preset the user may use; Preset.DoesNotExist otherwise."""
    return preset_list(user=user).get(pk=preset_id)


def preset_usable_by(*, owner: Any, preset_id: Any) -> Preset:
    """A preset that may develop this owner's photos (shared or theirs); DoesNotExist otherwise."""
    return Preset.objects.filter(Q(owner__isnull=True) | Q(owner=owner)).get(
        pk=preset_id
    )


def preset_list_for_selection(*, owner: Any) -> list[Preset]:
    """Active presets that automatic selection considers for the owner's photos.

    The owner's own come first, then the shared ones, each in creation
    order: on a tie of weight and specificity the one listed first wins.
    """
    presets = Preset.objects.filter(
        Q(owner__isnull=True) | Q(owner=owner), is_active=True
    ).only("id", "owner_id", "rules")
    return sorted(presets, key=lambda preset: (preset.owner_id is None, preset.pk))


# EXPORTS ------------------------------------------------------------------


def export_list(*, user: Any) -> QuerySet[Export]:
    """Exports the user may see, newest first, with photo and preset loaded."""
    exports = Export.objects.select_related("owner", "photo", "preset")
    return _owned(exports, user)


def export_get(*, user: Any, export_id: Any) -> Export:
    """One export the user may see; Export.DoesNotExist otherwise."""
    return export_list(user=user).get(pk=export_id)


# JOBS ---------------------------------------------------------------------


def photo_job_for_task_id(*, user: Any, task_id: str) -> ProcessingJob | None:
    """The photos job one of whose sends had this task id, if the user may see it.

    Users see the jobs they submitted (the photos app submits every job of
    a photo on behalf of its owner); staff see all.
    """
    job = job_selectors.job_for_task_id(task_id=task_id, user=user)
    if job is None or job.job_type not in JOB_TYPES:
        return None
    return job


def photo_jobs_failed(*, user: Any, limit: int) -> QuerySet[ProcessingJob]:
    """Failed photos jobs the user may see, most recently queued first."""
    filters: dict[str, Any] = {
        "status": ProcessingJob.Status.FAILED,
        "job_type__in": JOB_TYPES,
    }
    if not _sees_all(user):
        filters["submitted_by"] = user
    return job_selectors.job_list(filters=filters)[:limit]


def photo_jobs_waiting_ids(*, queue: str | None = None) -> list[Any]:
    """Ids of the queued or retrying photos jobs (of one queue, or all)."""
    filters: dict[str, Any] = {
        "status__in": job_selectors.WAITING_STATUSES,
        "job_type__in": JOB_TYPES,
    }
    if queue is not None:
        filters["queue"] = queue
    return list(job_selectors.job_list(filters=filters).values_list("id", flat=True))
