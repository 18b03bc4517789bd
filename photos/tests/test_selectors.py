"""Reads: who sees what (staff all, others their own; presets shared too), in few queries."""

import pytest

from jobs import services as job_services
from photos import selectors
from photos import services
from photos.models import Photo
from photos.tests.factories import ExportFactory
from photos.tests.factories import PhotoFactory
from photos.tests.factories import PhotoSessionFactory
from photos.tests.factories import PresetFactory
from photos.tests.factories import SimilarGroupFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_presets")]


def test_users_see_their_own_photos_and_staff_see_all(user, other_user, staff_user):
    mine = PhotoFactory(owner=user)
    theirs = PhotoFactory(owner=other_user)

    assert list(selectors.photo_list(user=user)) == [mine]
    assert set(selectors.photo_list(user=staff_user)) == {mine, theirs}
    with pytest.raises(Photo.DoesNotExist):
        selectors.photo_get(user=user, photo_id=theirs.pk)


def test_photo_list_loads_its_relations_in_one_query(user, django_assert_num_queries):
    PhotoFactory.create_batch(4, owner=user, preset=PresetFactory(owner=user))

    with django_assert_num_queries(1):
        photos = list(selectors.photo_list(user=user))
        _ = [(p.session.name, p.preset.name, p.group, p.owner.username) for p in photos]


def test_photo_list_for_ids_keeps_order_and_names_the_missing(user, other_user):
    first, second = PhotoFactory(owner=user), PhotoFactory(owner=user)
    foreign = PhotoFactory(owner=other_user)

    assert selectors.photo_list_for_ids(user=user, photo_ids=[second.pk, first.pk]) == [
        second,
        first,
    ]
    with pytest.raises(Photo.DoesNotExist, match=str(foreign.pk)):
        selectors.photo_list_for_ids(user=user, photo_ids=[first.pk, foreign.pk])


def test_session_list_counts_photos_by_status_in_one_query(
    user, django_assert_num_queries
):
    session = PhotoSessionFactory(owner=user)
    PhotoFactory.create_batch(2, owner=user, session=session, status="analyzed")
    PhotoFactory(owner=user, session=session, status="failed")
    PhotoFactory(owner=user, session=session)
    SimilarGroupFactory(session=session)

    with django_assert_num_queries(1):
        (listed,) = selectors.session_list(user=user)

    assert listed.photo_count == 5  # one more: the group's best photo
    assert (listed.pending_count, listed.analyzed_count, listed.failed_count) == (
        2,
        2,
        1,
    )
    assert listed.group_count == 1
    assert selectors.session_counts_by_status(session=session) == {
        "pending": 2,
        "analyzed": 2,
        "failed": 1,
    }


def test_group_list_loads_members_in_two_queries(user, django_assert_num_queries):
    for _ in range(3):
        group = SimilarGroupFactory(session=PhotoSessionFactory(owner=user))
        PhotoFactory(owner=user, session=group.session, group=group)

    with django_assert_num_queries(2):
        groups = list(selectors.group_list(user=user))
        _ = [(g.session.name, g.best_photo, list(g.photos.all())) for g in groups]


def test_users_use_shared_presets_and_their_own(user, other_user, staff_user):
    mine = PresetFactory(owner=user)
    theirs = PresetFactory(owner=other_user)
    shared = set(selectors.preset_list(user=None).filter(owner=None))

    assert set(selectors.preset_list(user=user)) == shared | {mine}
    assert theirs in set(selectors.preset_list(user=staff_user))


def test_selection_lists_the_owner_s_presets_before_shared_ones(user):
    mine = services.preset_create(created_by=user, name="Mine", rules=[{}])
    PresetFactory(owner=user, name="Off", is_active=False)

    chosen = selectors.preset_list_for_selection(owner=user.pk)

    assert chosen[0] == mine
    assert all(preset.owner_id is None for preset in chosen[1:])
    assert "Off" not in {preset.name for preset in chosen}


def test_export_list_is_owner_scoped(user, other_user, django_assert_num_queries):
    mine = ExportFactory(photo=PhotoFactory(owner=user))
    ExportFactory(photo=PhotoFactory(owner=other_user))

    with django_assert_num_queries(1):
        exports = list(selectors.export_list(user=user))
        _ = [(e.photo.original_name, e.preset.name) for e in exports]
    assert exports == [mine]


def test_failed_photo_jobs_are_the_user_s_own(user, other_user, staff_user):
    """Jobs failed through the engine (their photos have no file)."""
    mine = job_services.job_run_now(
        job_type="photos.analyze", target=PhotoFactory(owner=user), submitted_by=user
    )
    theirs = job_services.job_run_now(
        job_type="photos.analyze",
        target=PhotoFactory(owner=other_user),
        submitted_by=other_user,
    )
    unrelated = job_services.job_run_now(
        job_type="jobs.diagnostic", params={"fail_times": 99}, submitted_by=user
    )
    assert {mine.status, theirs.status, unrelated.status} == {"failed"}

    assert [job.pk for job in selectors.photo_jobs_failed(user=user, limit=10)] == [
        mine.pk
    ]
    assert {
        job.pk for job in selectors.photo_jobs_failed(user=staff_user, limit=10)
    } == {mine.pk, theirs.pk}
    assert selectors.photo_job_for_task_id(user=user, task_id=str(theirs.id)) is None
    assert selectors.photo_job_for_task_id(user=user, task_id=str(unrelated.id)) is None
    assert selectors.photo_job_for_task_id(user=user, task_id=mine.task_id) == mine
