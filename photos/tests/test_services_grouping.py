"""Similar groups of a session: near-duplicates together, the best one marked."""

import datetime as dt

import piexif
import pytest

from jobs.models import ProcessingJob
from photos import services
from photos.models import Photo
from photos.models import SimilarGroup
from photos.tests import images

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_presets")]

START = dt.datetime(2024, 6, 1, 10, 0, 0)


def taken(seconds: int) -> dict:
    moment = (START + dt.timedelta(seconds=seconds)).strftime("%Y:%m:%d %H:%M:%S")
    return {"Exif": {piexif.ExifIFD.DateTimeOriginal: moment.encode()}}


@pytest.fixture
def shoot(user, analysed):
    """A burst of three frames of one scene (one blurred), and a different scene."""
    session = services.session_create(owner=user, name="Cat")
    cat = images.photograph("chelsea", size=480)

    def frame(image, seconds, name):
        return analysed(
            images.jpeg_with_exif(image, taken(seconds)), session=session, name=name
        )

    return session, {
        "sharp": frame(cat, 0, "sharp.jpg"),
        "moved": frame(images.near_duplicate(cat, 6), 2, "moved.jpg"),
        "blurred": frame(
            images.blurred(images.near_duplicate(cat, 3), 3), 4, "soft.jpg"
        ),
        "other": frame(images.photograph("rocket", size=480), 6, "rocket.jpg"),
    }


def test_near_duplicates_form_one_group_and_the_sharpest_is_best(shoot):
    session, photos = shoot

    result = services.session_group(session_id=session.pk)

    group = SimilarGroup.objects.get(session=session)
    members = set(group.photos.values_list("pk", flat=True))
    assert members == {photos["sharp"].pk, photos["moved"].pk, photos["blurred"].pk}
    best = max(
        (photos[name] for name in ("sharp", "moved", "blurred")), key=lambda p: p.score
    )
    assert group.best_photo_id == best.pk
    assert best.pk != photos["blurred"].pk
    assert list(Photo.objects.filter(is_best_in_group=True)) == [best]
    assert group.photo_count == 3
    assert group.first_taken_at == dt.datetime(2024, 6, 1, 10, 0, tzinfo=dt.UTC)
    photos["other"].refresh_from_db()
    assert photos["other"].group is None
    assert result["groups"] == 1
    assert result["best_photo_ids"] == [best.pk]
    session.refresh_from_db()
    assert session.grouped_at is not None


def test_regrouping_replaces_the_groups_and_gives_the_same_answer(shoot):
    session, _ = shoot
    first = services.session_group(session_id=session.pk)

    second = services.session_group(session_id=session.pk)

    assert SimilarGroup.objects.filter(session=session).count() == 1
    assert second["best_photo_ids"] == first["best_photo_ids"]
    assert Photo.objects.filter(is_best_in_group=True).count() == 1


def test_the_same_scene_far_apart_in_time_is_not_grouped(user, analysed, settings):
    settings.PHOTOS_GROUP_WINDOW_S = 60
    session = services.session_create(owner=user, name="Day")
    cat = images.photograph("chelsea", size=480)
    analysed(images.jpeg_with_exif(cat, taken(0)), session=session, name="a.jpg")
    analysed(
        images.jpeg_with_exif(images.near_duplicate(cat), taken(3600)),
        session=session,
        name="b.jpg",
    )

    assert services.session_group(session_id=session.pk)["groups"] == 0


def test_group_submit_answers_a_grouping_still_waiting(user):
    session = services.session_create(owner=user, name="S")

    job, created = services.session_group_submit(session=session, submitted_by=user)
    again, created_again = services.session_group_submit(session=session)

    assert (created, created_again) == (True, False)
    assert again.pk == job.pk
    assert job.queue == "low"
    assert ProcessingJob.objects.filter(job_type="photos.group").count() == 1
