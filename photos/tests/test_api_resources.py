"""/api/v1/ sessions/, groups/, presets/ and exports/: shape, permissions, one real path each."""

import pytest

from jobs.models import ProcessingJob
from photos import services
from photos.models import Export
from photos.models import PhotoSession
from photos.models import Preset
from photos.tests import images
from photos.tests.factories import ExportFactory
from photos.tests.factories import PhotoFactory
from photos.tests.factories import PhotoSessionFactory
from photos.tests.factories import PresetFactory
from photos.tests.factories import SimilarGroupFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_presets")]


# SESSIONS -----------------------------------------------------------------


def test_sessions_are_created_listed_with_counts_and_renamed(user_client, user):
    created = user_client.post("/api/v1/sessions/", {"name": "Wedding"}, format="json")
    session_id = created.json()["id"]
    session = PhotoSession.objects.get(pk=session_id)
    PhotoFactory.create_batch(2, owner=user, session=session, status="analyzed")
    PhotoFactory(owner=user, session=session)

    listed = user_client.get("/api/v1/sessions/").json()["results"]
    renamed = user_client.patch(
        f"/api/v1/sessions/{session_id}/", {"name": "Wedding day"}, format="json"
    )

    assert created.status_code == 201
    assert listed[0]["photo_count"] == 3
    assert listed[0]["counts"] == {"pending": 1, "analyzed": 2, "failed": 0}
    assert renamed.json()["name"] == "Wedding day"


def test_a_duplicate_session_name_is_400(user_client, user):
    PhotoSessionFactory(owner=user, name="Same")

    answer = user_client.post("/api/v1/sessions/", {"name": "Same"}, format="json")

    assert answer.status_code == 400


def test_another_user_s_session_is_404(user_client, other_user):
    theirs = PhotoSessionFactory(owner=other_user)

    assert user_client.get(f"/api/v1/sessions/{theirs.pk}/").status_code == 404
    assert user_client.post(f"/api/v1/sessions/{theirs.pk}/process/").status_code == 404


def test_process_queues_every_photo_in_one_batch(user_client, user):
    session = PhotoSessionFactory(owner=user)
    PhotoFactory.create_batch(3, owner=user, session=session)

    answer = user_client.post(
        f"/api/v1/sessions/{session.pk}/process/", {"auto_select": False}, format="json"
    )

    assert answer.status_code == 202
    assert answer.json()["submitted"] == 3
    jobs = ProcessingJob.objects.filter(job_type="photos.analyze")
    assert {job.params["apply_preset"] for job in jobs} == {False}


def test_group_action_queues_the_grouping_on_low(user_client, user):
    session = PhotoSessionFactory(owner=user)

    answer = user_client.post(f"/api/v1/sessions/{session.pk}/group/")

    assert answer.status_code == 202
    assert (answer.json()["job_type"], answer.json()["queue"]) == (
        "photos.group",
        "low",
    )


def test_deleting_a_session_keeps_its_photos(user_client, user):
    session = PhotoSessionFactory(owner=user)
    photo = PhotoFactory(owner=user, session=session)

    assert user_client.delete(f"/api/v1/sessions/{session.pk}/").status_code == 204
    photo.refresh_from_db()
    assert photo.session is None


# GROUPS -------------------------------------------------------------------


def test_groups_list_their_photos_best_first_for_the_owner_only(
    user_client, user, other_user
):
    group = SimilarGroupFactory(session=PhotoSessionFactory(owner=user))
    group.best_photo.group = group
    group.best_photo.is_best_in_group = True
    group.best_photo.save()
    other = PhotoFactory(owner=user, session=group.session, group=group)
    SimilarGroupFactory(session=PhotoSessionFactory(owner=other_user))

    answer = user_client.get(f"/api/v1/groups/?session={group.session_id}")

    (listed,) = answer.json()["results"]
    assert listed["best_photo"] == group.best_photo_id
    assert [photo["id"] for photo in listed["photos"]] == [
        group.best_photo_id,
        other.pk,
    ]
    assert listed["photos"][0]["is_best_in_group"] is True
    assert user_client.get("/api/v1/groups/").json()["count"] == 1


# PRESETS ------------------------------------------------------------------


def test_users_list_shared_presets_and_their_own(user_client, user, other_user):
    mine = PresetFactory(owner=user)
    PresetFactory(owner=other_user)

    names = {
        preset["name"]
        for preset in user_client.get("/api/v1/presets/").json()["results"]
    }

    assert mine.name in names
    assert "Portrait" in names
    assert len(names) == Preset.objects.filter(owner=None).count() + 1


def test_user_creates_edits_and_deletes_a_preset(user_client):
    created = user_client.post(
        "/api/v1/presets/",
        {
            "name": "Golden hour",
            "adjustments": {"temperature": 25, "vibrance": 20},
            "rules": [{"labels_any": ["landscape"], "weight": 5}],
        },
        format="json",
    )
    preset_id = created.json()["id"]
    edited = user_client.patch(
        f"/api/v1/presets/{preset_id}/",
        {"adjustments": {"exposure": 0.5}},
        format="json",
    )
    deleted = user_client.delete(f"/api/v1/presets/{preset_id}/")

    assert created.status_code == 201
    assert created.json()["is_shared"] is False
    assert edited.json()["adjustments"] == {"exposure": 0.5}
    assert deleted.status_code == 204


def test_preset_values_out_of_range_are_400_naming_each_problem(user_client):
    answer = user_client.post(
        "/api/v1/presets/",
        {
            "name": "Bad",
            "adjustments": {"exposure": 12, "glow": 3},
            "rules": [{"labels_any": ["sunset"], "min_score": 9}],
        },
        format="json",
    )

    assert answer.status_code == 400
    detail = answer.json()["detail"]
    assert any("exposure: 12" in problem for problem in detail["adjustments"])
    assert any(
        "glow: unknown adjustment" in problem for problem in detail["adjustments"]
    )
    assert any("sunset" in problem for problem in detail["rules"])
    assert any("min_score" in problem for problem in detail["rules"])


def test_shared_presets_are_managed_by_staff_only(user_client, staff_client):
    shared = Preset.objects.get(owner=None, name="Night")

    assert (
        user_client.patch(
            f"/api/v1/presets/{shared.pk}/", {"is_active": False}, format="json"
        ).status_code
        == 403
    )
    assert user_client.delete(f"/api/v1/presets/{shared.pk}/").status_code == 403
    assert (
        user_client.post(
            "/api/v1/presets/", {"name": "For all", "shared": True}, format="json"
        ).status_code
        == 403
    )
    created = staff_client.post(
        "/api/v1/presets/", {"name": "For all", "shared": True}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["is_shared"] is True


def test_another_user_s_preset_is_404(user_client, other_user):
    theirs = PresetFactory(owner=other_user)

    assert user_client.get(f"/api/v1/presets/{theirs.pk}/").status_code == 404


# EXPORTS ------------------------------------------------------------------


def test_export_is_created_rendered_and_downloaded(user_client, user, analysed):
    photo = analysed(images.jpeg_with_exif(images.photograph(size=600)), name="cat.jpg")

    created = user_client.post(
        "/api/v1/exports/",
        {"photo": photo.pk, "format": "webp", "long_edge": 300, "quality": 80},
        format="json",
    )
    export_id = created.json()["id"]
    before = user_client.get(f"/api/v1/exports/{export_id}/download/")
    services.export_render(export_id=export_id)
    after = user_client.get(f"/api/v1/exports/{export_id}/")
    download = user_client.get(after.json()["download_url"])

    assert created.status_code == 202
    assert created.json()["status"] == "queued"
    assert created.json()["format"] == "WEBP"
    assert before.status_code == 404
    assert after.json()["status"] == "completed"
    assert download.status_code == 200
    assert download["Content-Type"] == "image/webp"
    assert 'filename="cat.webp"' in download["Content-Disposition"]


@pytest.mark.parametrize(
    "body",
    [
        {"format": "gif"},
        {"quality": 0},
        {"long_edge": 5},
        {"long_edge": 100_000},
        {"keep_metadata": "maybe"},
    ],
)
def test_bad_export_options_are_400(user_client, user, body):
    photo = PhotoFactory(owner=user)

    answer = user_client.post(
        "/api/v1/exports/", {"photo": photo.pk, **body}, format="json"
    )

    assert answer.status_code == 400
    assert not Export.objects.exists()


def test_exports_of_another_user_s_photo_or_preset_are_refused(
    user_client, user, other_user
):
    theirs = PhotoFactory(owner=other_user)
    their_preset = PresetFactory(owner=other_user)
    mine = PhotoFactory(owner=user)

    photo_refused = user_client.post(
        "/api/v1/exports/", {"photo": theirs.pk}, format="json"
    )
    preset_refused = user_client.post(
        "/api/v1/exports/", {"photo": mine.pk, "preset": their_preset.pk}, format="json"
    )

    assert photo_refused.status_code == 400
    assert preset_refused.status_code == 400


def test_exports_are_listed_for_their_owner(user_client, user, other_user):
    mine = ExportFactory(photo=PhotoFactory(owner=user))
    ExportFactory(photo=PhotoFactory(owner=other_user))

    results = user_client.get("/api/v1/exports/").json()["results"]

    assert [export["id"] for export in results] == [mine.pk]
    assert results[0]["download_url"] is None
