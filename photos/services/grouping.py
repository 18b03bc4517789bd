"""Similar groups of a session, rebuilt from the photos' hashes, times and scores."""

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs import services as job_services
from jobs.models import ProcessingJob
from photos import grouping
from photos import selectors
from photos.models import Photo
from photos.models import PhotoSession
from photos.models import SimilarGroup

logger = logging.getLogger(__name__)


def session_group(*, session_id: int) -> dict[str, Any]:
    """Rebuild the session's similar groups and best-of-group flags in one transaction.

    Idempotent: the same photos give the same groups. Photos not analysed
    yet (no hash) stay out until a later grouping.
    """
    with transaction.atomic():
        # Locked: an analysis finishing now waits, then sees these groups.
        session = PhotoSession.objects.select_for_update().get(pk=session_id)
        photos = list(selectors.session_photos_for_grouping(session_id=session_id))
        records = [
            grouping.GroupingRecord(
                key=photo.pk,
                phash=photo.phash,
                taken_at=photo.taken_at,
                score=photo.score,
            )
            for photo in photos
        ]
        found = grouping.group_similar(
            records,
            max_distance=settings.PHOTOS_GROUP_MAX_DISTANCE,
            window_s=settings.PHOTOS_GROUP_WINDOW_S,
        )
        by_id = {photo.pk: photo for photo in photos}
        Photo.objects.filter(session_id=session_id).update(
            group=None, is_best_in_group=False
        )
        SimilarGroup.objects.filter(session_id=session_id).delete()
        groups = SimilarGroup.objects.bulk_create(
            SimilarGroup(
                session_id=session_id,
                owner_id=session.owner_id,
                position=position,
                best_photo_id=similar.best_key,
                photo_count=len(similar.keys),
                first_taken_at=min(
                    (
                        by_id[key].taken_at
                        for key in similar.keys
                        if by_id[key].taken_at
                    ),
                    default=None,
                ),
            )
            for position, similar in enumerate(found)
        )
        for group, similar in zip(groups, found, strict=True):
            Photo.objects.filter(pk__in=similar.keys).update(group=group)
        Photo.objects.filter(pk__in=[similar.best_key for similar in found]).update(
            is_best_in_group=True
        )
        PhotoSession.objects.filter(pk=session_id).update(grouped_at=timezone.now())
    logger.info(
        "session_grouped session_id=%s photos=%s groups=%s",
        session_id,
        len(photos),
        len(found),
    )
    return {
        "session_id": session_id,
        "photos_considered": len(photos),
        "groups": len(found),
        "photos_grouped": sum(len(similar.keys) for similar in found),
        "best_photo_ids": [similar.best_key for similar in found],
    }


def session_group_submit(
    *, session: PhotoSession, submitted_by: Any = None
) -> tuple[ProcessingJob, bool]:
    """Queue the session's grouping (low queue); a grouping still waiting is answered instead."""
    with transaction.atomic():
        PhotoSession.objects.select_for_update().filter(pk=session.pk).first()
        waiting = selectors.session_group_job_waiting(session=session)
        if waiting is not None:
            return waiting, False
        job = job_services.job_submit(
            job_type=selectors.GROUP_JOB_TYPE,
            target=session,
            submitted_by=submitted_by or session.owner,
        )
    return job, True
