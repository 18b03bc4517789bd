"""The original bridge's queue rules: priority exactly as the original, routing, batches."""

import pytest
from django.core.exceptions import ValidationError

from jobs import services as job_services
from jobs.models import ProcessingJob
from jobs.models import QueueState
from jobs.registry import job_type_get
from photos import quality
from photos import services
from photos.models import Photo
from photos.tests.factories import PhotoFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_presets")]


@pytest.mark.parametrize(
    ("score", "user_requested", "priority"),
    [
        (None, True, 9),
        (1.0, True, 9),
        (5.0, False, 9),
        (4.5, False, 9),
        (4.49, False, 5),
        (3.5, False, 5),
        (3.49, False, 1),
        (1.0, False, 1),
        (None, False, 5),
    ],
)
def test_submit_priority_is_the_original_s(user, score, user_requested, priority):
    photo = PhotoFactory(owner=user, score=score)

    job, created = services.photo_submit(
        photo=photo, user_requested=user_requested, submitted_by=user
    )

    assert created is True
    assert (
        job.priority
        == priority
        == quality.priority_for(score, user_requested=user_requested)
    )
    assert (job.job_type, job.queue) == ("photos.analyze", "medium")


def test_job_types_are_routed_as_the_original():
    queues = {
        name: job_type_get(name).queue
        for name in (
            "photos.exif",
            "photos.apply_preset",
            "photos.analyze",
            "photos.group",
            "photos.export",
        )
    }

    assert queues == {
        "photos.exif": "high",
        "photos.apply_preset": "high",
        "photos.analyze": "medium",
        "photos.group": "low",
        "photos.export": "low",
    }


def test_submit_answers_the_analysis_already_queued(user):
    photo = PhotoFactory(owner=user)
    first, _ = services.photo_submit(photo=photo, submitted_by=user)

    again, created = services.photo_submit(
        photo=photo, user_requested=True, submitted_by=user
    )

    assert created is False
    assert again.pk == first.pk


def test_submit_config_becomes_the_job_s_params(user):
    photo = PhotoFactory(owner=user)

    job, _ = services.photo_submit(
        photo=photo,
        submitted_by=user,
        config={"apply_preset": True, "timezone": "Europe/Paris"},
    )

    assert job.params == {"apply_preset": True, "timezone": "Europe/Paris"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"apply_preset": "yes"}, "apply_preset must be true or false"),
        ({"timezone": "Mars/Olympus"}, "not an IANA time zone"),
        (["apply_preset"], "must be an object"),
    ],
)
def test_bad_config_is_refused(user, config, message):
    photo = PhotoFactory(owner=user)

    with pytest.raises(ValidationError, match=message):
        services.photo_submit(photo=photo, submitted_by=user, config=config)
    assert not ProcessingJob.objects.exists()


def test_batch_is_one_transaction_with_priority_by_score_unless_given(
    user, django_capture_on_commit_callbacks
):
    photos = [
        PhotoFactory(owner=user, score=4.8),
        PhotoFactory(owner=user, score=3.9),
        PhotoFactory(owner=user, score=2.0),
        PhotoFactory(owner=user, score=None),
    ]

    with django_capture_on_commit_callbacks() as callbacks:
        by_score = services.photos_submit_batch(photos=photos, submitted_by=user)

    assert len(callbacks) == 1  # every message goes out together on commit
    assert [job.priority for job in by_score.jobs] == [9, 5, 1, 5]
    ProcessingJob.objects.all().delete()
    given = services.photos_submit_batch(photos=photos, submitted_by=user, priority=7)
    assert {job.priority for job in given.jobs} == {7}


def test_batch_leaves_photos_whose_analysis_is_queued_with_that_job(user):
    busy, idle = PhotoFactory(owner=user), PhotoFactory(owner=user)
    queued, _ = services.photo_submit(photo=busy, submitted_by=user)

    submission = services.photos_submit_batch(photos=[busy, idle], submitted_by=user)

    assert [photo.pk for photo in submission.photos] == [idle.pk]
    assert submission.already_active == {busy.pk: queued}


def test_session_submission_covers_every_photo_and_passes_auto_select(user):
    session = services.session_create(owner=user, name="Wedding")
    photos = PhotoFactory.create_batch(3, owner=user, session=session)
    PhotoFactory(owner=user)  # another session's photo

    submission = services.session_submit(
        session=session, auto_select=False, submitted_by=user
    )

    assert {photo.pk for photo in submission.photos} == {p.pk for p in photos}
    assert {tuple(job.params.items()) for job in submission.jobs} == {
        (("apply_preset", False),)
    }


@pytest.mark.parametrize(
    ("name", "queue"),
    [
        ("high", "high"),
        ("high_priority", "high"),
        ("medium_priority", "medium"),
        ("low_priority", "low"),
    ],
)
def test_the_original_queue_names_are_aliases(name, queue):
    assert services.queue_name_resolve(name=name) == queue


@pytest.mark.parametrize("name", ["video", "urgent", ""])
def test_other_queue_names_are_refused(name):
    with pytest.raises(ValidationError, match="unknown queue"):
        services.queue_name_resolve(name=name)


def test_pause_and_resume_all_photo_queues_or_one(staff_user):
    assert services.photo_queues_pause(paused_by=staff_user) == [
        "high",
        "medium",
        "low",
    ]
    assert set(
        QueueState.objects.filter(is_paused=True).values_list("name", flat=True)
    ) == {"high", "medium", "low"}

    assert services.photo_queues_resume(queue_name="medium_priority") == ["medium"]
    assert not QueueState.objects.get(name="medium").is_paused


def test_purge_cancels_waiting_photo_jobs_only(user, staff_user):
    photo = PhotoFactory(owner=user)
    analysis, _ = services.photo_submit(photo=photo, submitted_by=user)
    session = services.session_create(owner=user, name="S")
    grouping, _ = services.session_group_submit(session=session)
    other = job_services.job_submit(job_type="jobs.diagnostic", queue="medium")

    purged = services.photo_jobs_purge(
        queue_name="medium_priority", purged_by=staff_user
    )

    assert purged == {"queues": ["medium"], "purged": 1}
    statuses = dict(ProcessingJob.objects.values_list("id", "status"))
    assert statuses[analysis.id] == "cancelled"
    assert statuses[grouping.id] == "queued"  # low queue, not named
    assert statuses[other.id] == "queued"  # not a photos job
    assert Photo.objects.get(pk=photo.pk).status == "pending"
