"""Admin: changelists, actions through the services, the session's groups page."""

import pytest
from django.urls import reverse

from jobs.models import ProcessingJob
from photos import services
from photos.models import Export
from photos.models import Preset
from photos.tests import images
from photos.tests.factories import PhotoFactory
from photos.tests.factories import PhotoSessionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_presets")]


def action(admin_client, model: str, name: str, pks: list[int]):
    return admin_client.post(
        reverse(f"admin:photos_{model}_changelist"),
        {"action": name, "_selected_action": pks},
        follow=True,
    )


def test_photo_changelist_shows_thumbnail_score_context_group_and_preset(
    admin_client, user
):
    preset = Preset.objects.get(owner=None, name="Portrait")
    PhotoFactory(owner=user, score=4.2, context_labels=["portrait"], preset=preset)

    page = admin_client.get(reverse("admin:photos_photo_changelist"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "4.2" in html
    assert "portrait" in html
    assert "Portrait" in html
    assert "/thumbnail.jpg" in html


def test_reanalyse_action_queues_user_requested_analyses(admin_client, user):
    photos = PhotoFactory.create_batch(2, owner=user, score=2.0)

    action(admin_client, "photo", "reanalyze", [photo.pk for photo in photos])

    jobs = ProcessingJob.objects.filter(job_type="photos.analyze")
    assert jobs.count() == 2
    assert set(jobs.values_list("priority", flat=True)) == {9}


def test_regroup_and_export_actions_call_the_services(admin_client, user):
    session = PhotoSessionFactory(owner=user)
    photos = PhotoFactory.create_batch(2, owner=user, session=session)

    action(admin_client, "photo", "regroup", [photo.pk for photo in photos])
    action(admin_client, "photo", "export_jpeg", [photos[0].pk])

    assert ProcessingJob.objects.filter(job_type="photos.group").count() == 1
    export = Export.objects.get()
    assert (export.format, export.long_edge) == ("JPEG", 2048)
    assert ProcessingJob.objects.filter(job_type="photos.export").count() == 1


def test_session_actions_process_and_regroup(admin_client, user):
    session = PhotoSessionFactory(owner=user)
    PhotoFactory.create_batch(3, owner=user, session=session)

    action(admin_client, "photosession", "process", [session.pk])
    action(admin_client, "photosession", "regroup", [session.pk])

    assert ProcessingJob.objects.filter(job_type="photos.analyze").count() == 3
    assert ProcessingJob.objects.filter(job_type="photos.group").count() == 1


def test_session_groups_page_shows_groups_side_by_side_with_the_best_marked(
    admin_client, user, analysed
):
    session = services.session_create(owner=user, name="Cat burst")
    cat = images.photograph("chelsea", size=400)
    sharp = analysed(images.encode(cat), session=session, name="sharp.jpg")
    analysed(
        images.encode(images.near_duplicate(cat)), session=session, name="near.jpg"
    )
    analysed(
        images.encode(images.photograph("rocket", size=400)),
        session=session,
        name="rocket.jpg",
    )
    services.session_group(session_id=session.pk)
    sharp.refresh_from_db()

    page = admin_client.get(
        reverse("admin:photos_photosession_groups", args=[session.pk])
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert "Group 1" in html
    assert html.count("mq-frame mq-best") == 1
    assert "&#9733; best" in html
    assert "Not in any group" in html
    assert "rocket.jpg" in html
    best = next(photo for photo in page.context["groups"][0].photos.all())
    assert best.is_best_in_group is True


def test_regroup_button_queues_grouping(admin_client, user):
    session = PhotoSessionFactory(owner=user)

    page = admin_client.post(
        reverse("admin:photos_photosession_regroup", args=[session.pk]), follow=True
    )

    assert page.status_code == 200
    assert ProcessingJob.objects.filter(job_type="photos.group").count() == 1


def test_thumbnail_view_serves_the_file_or_a_placeholder(admin_client, user, analysed):
    photo = analysed(images.encode(images.photograph(size=300)))
    pending = PhotoFactory(owner=user)

    made = admin_client.get(reverse("admin:photos_photo_thumbnail", args=[photo.pk]))
    placeholder = admin_client.get(
        reverse("admin:photos_photo_thumbnail", args=[pending.pk])
    )

    assert made["Content-Type"] == "image/jpeg"
    assert placeholder["Content-Type"] == "image/svg+xml"


def test_presets_are_edited_in_the_admin_with_their_ranges_checked(admin_client):
    preset = Preset.objects.get(owner=None, name="Night")
    url = reverse("admin:photos_preset_change", args=[preset.pk])
    form = {
        "name": "Night",
        "description": "",
        "owner": "",
        "adjustments": '{"exposure": 7}',
        "rules": '[{"labels_any": ["night"]}]',
        "is_active": "on",
    }

    refused = admin_client.post(url, form)
    form["adjustments"] = '{"exposure": 0.7}'
    saved = admin_client.post(url, form)

    assert refused.status_code == 200
    assert "outside -5..5" in refused.content.decode()
    assert saved.status_code == 302
    preset.refresh_from_db()
    assert preset.adjustments == {"exposure": 0.7}


def test_a_new_shared_preset_from_the_admin(admin_client):
    answer = admin_client.post(
        reverse("admin:photos_preset_add"),
        {
            "name": "Film",
            "description": "grain-free film look",
            "owner": "",
            "adjustments": '{"contrast": 15, "saturation": -10}',
            "rules": "[]",
            "is_active": "on",
        },
    )

    assert answer.status_code == 302
    assert Preset.objects.get(name="Film").owner is None
