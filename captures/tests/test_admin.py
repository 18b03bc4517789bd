"""The Django admin of devices, captures and observations."""

import re

import pytest
from django.contrib.messages import get_messages

from captures import services
from captures.models import Capture
from captures.models import Device
from captures.tests import images

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="root-pass-123")
    client.force_login(admin)
    return client


@pytest.fixture
def analysed_capture(settings, device_and_key):
    settings.CAPTURES_OCR_ENABLED = False
    settings.CAPTURES_AUTO_PROCESS = False
    capture = services.capture_ingest(
        device=device_and_key[0], image=images.astronaut_jpeg()
    ).capture
    services.capture_analyze(capture_id=capture.pk)
    return capture


def test_changelists_and_change_pages_render(admin_client, analysed_capture):
    """Device, capture and observation lists and pages render with their summaries."""
    observation = analysed_capture.observations.get()
    pages = [
        "/admin/captures/device/",
        f"/admin/captures/device/{analysed_capture.device.pk}/change/",
        "/admin/captures/capture/",
        f"/admin/captures/capture/{analysed_capture.pk}/change/",
        "/admin/captures/observation/",
        f"/admin/captures/observation/{observation.pk}/change/",
    ]
    for url in pages:
        assert admin_client.get(url).status_code == 200, url
    capture_list = admin_client.get("/admin/captures/capture/").content.decode()
    assert "thumbnail.jpg" in capture_list and "face" in capture_list
    observation_page = admin_client.get(pages[-1]).content.decode()
    assert f"/admin/captures/observation/{observation.pk}/boxes.jpg" in observation_page


def test_thumbnail_and_boxes_are_jpegs_for_staff_only(
    admin_client, client, analysed_capture, user
):
    """The thumbnail and the boxes image are JPEGs, served only to admin users."""
    observation = analysed_capture.observations.get()
    thumbnail = admin_client.get(
        f"/admin/captures/capture/{analysed_capture.pk}/thumbnail.jpg"
    )
    boxes = admin_client.get(f"/admin/captures/observation/{observation.pk}/boxes.jpg")
    for response in (thumbnail, boxes):
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        body = (
            b"".join(response.streaming_content)
            if response.streaming
            else response.content
        )
        assert body[:3] == b"\xff\xd8\xff"
    client.force_login(user)
    assert (
        client.get(
            f"/admin/captures/observation/{observation.pk}/boxes.jpg"
        ).status_code
        == 302
    )


def test_adding_a_device_shows_its_key_once(admin_client, ingest):
    """Adding a device in the admin shows its new API key in a message; the key works."""
    response = admin_client.post(
        "/admin/captures/device/add/",
        {
            "device_id": "esp32-admin",
            "name": "Admin cam",
            "location": "",
            "is_active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    text = " ".join(str(m) for m in get_messages(response.wsgi_request))
    key = re.search(r"(mqd_\S+)", text).group(1)
    assert Device.objects.filter(device_id="esp32-admin").exists()
    assert (
        ingest.json(
            device_id="esp32-admin", key=key, image=images.numbered(1)
        ).status_code
        == 201
    )


def test_rotate_key_action_shows_the_new_key(admin_client, device_and_key, ingest):
    """The rotate action replaces the key and shows the new one once."""
    device, old_key = device_and_key
    response = admin_client.post(
        "/admin/captures/device/",
        {"action": "rotate_key", "_selected_action": [device.pk]},
        follow=True,
    )
    text = " ".join(str(m) for m in get_messages(response.wsgi_request))
    new_key = re.search(r"(mqd_\S+)", text).group(1)
    assert new_key != old_key
    assert (
        ingest.json(
            device_id=device.device_id, key=new_key, image=images.numbered(2)
        ).status_code
        == 201
    )


def test_reprocess_action_queues_jobs(admin_client, analysed_capture):
    """The reprocess action queues an analysis job per selected capture."""
    from jobs.models import ProcessingJob

    admin_client.post(
        "/admin/captures/capture/",
        {"action": "reprocess", "_selected_action": [analysed_capture.pk]},
    )
    job = ProcessingJob.objects.get(job_type="captures.analyze")
    assert job.object_id == str(analysed_capture.pk) and job.priority == 8


def test_deleting_a_capture_in_the_admin_deletes_its_file(
    admin_client, analysed_capture, django_capture_on_commit_callbacks
):
    """Deleting from the admin goes through the service: row and file go."""
    path = analysed_capture.image.path
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            f"/admin/captures/capture/{analysed_capture.pk}/delete/", {"post": "yes"}
        )
    assert not Capture.objects.exists()
    import os

    assert not os.path.exists(path)
