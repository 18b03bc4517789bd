"""The captures DRF API under /api/v1/: devices, captures, observations; visibility by owner."""

import pytest
from rest_framework.test import APIClient

from captures import services
from captures.models import Capture
from captures.models import Device
from captures.tests import images
from jobs.models import ProcessingJob

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quiet(settings):
    settings.CAPTURES_OCR_ENABLED = False
    settings.CAPTURES_AUTO_PROCESS = False


def store(device, image: bytes) -> Capture:
    return services.capture_ingest(device=device, image=image).capture


def analysed(device, image: bytes) -> Capture:
    capture = store(device, image)
    services.capture_analyze(capture_id=capture.pk)
    return capture


# Devices ----------------------------------------------------------------------


def test_staff_creates_a_device_and_sees_its_key_once(staff_client, user, ingest):
    """Creating a device answers its api_key once; reads never show it again; the key works."""
    response = staff_client.post(
        "/api/v1/devices/",
        {
            "device_id": "esp32-009",
            "name": "Gate",
            "location": "north",
            "owner": user.username,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["device_id"] == "esp32-009" and body["owner"] == "alice"
    api_key = body["api_key"]
    assert api_key.startswith("mqd_") and body["api_key_prefix"] == api_key[:12]
    detail = staff_client.get("/api/v1/devices/esp32-009/").json()
    assert "api_key" not in detail
    assert (
        ingest.json(
            device_id="esp32-009", key=api_key, image=images.numbered(1)
        ).status_code
        == 201
    )


def test_device_create_validates_input(staff_client, make_device):
    """A duplicate or malformed device_id is a 400."""
    make_device("esp32-001")
    duplicate = staff_client.post(
        "/api/v1/devices/", {"device_id": "esp32-001", "name": "x"}, format="json"
    )
    assert duplicate.status_code == 400
    assert "device_id" in duplicate.json()["detail"]
    malformed = staff_client.post(
        "/api/v1/devices/", {"device_id": "no spaces", "name": "x"}, format="json"
    )
    assert malformed.status_code == 400


def test_rotate_key_answers_the_new_key_once(staff_client, make_device, ingest):
    """rotate-key answers a new key; the old one stops working."""
    _, old_key = make_device("esp32-001")
    response = staff_client.post("/api/v1/devices/esp32-001/rotate-key/")
    assert response.status_code == 200
    new_key = response.json()["api_key"]
    assert new_key != old_key
    assert (
        ingest.json(
            device_id="esp32-001", key=old_key, image=images.numbered(1)
        ).status_code
        == 401
    )
    assert (
        ingest.json(
            device_id="esp32-001", key=new_key, image=images.numbered(1)
        ).status_code
        == 201
    )


def test_staff_updates_a_device(staff_client, make_device):
    """PATCH changes name, activity and retention."""
    make_device("esp32-001")
    response = staff_client.patch(
        "/api/v1/devices/esp32-001/",
        {"is_active": False, "retention_days": 7},
        format="json",
    )
    assert response.status_code == 200, response.content
    device = Device.objects.get(device_id="esp32-001")
    assert device.is_active is False and device.retention_days == 7


def test_owners_see_only_their_devices_and_cannot_manage(
    user_client, user, other_user, make_device
):
    """A non-staff user lists their own devices and may not create, edit or rotate."""
    make_device("mine", owner=user)
    make_device("theirs", owner=other_user)

    listed = user_client.get("/api/v1/devices/").json()["results"]

    assert [device["device_id"] for device in listed] == ["mine"]
    assert user_client.get("/api/v1/devices/theirs/").status_code == 404
    assert (
        user_client.post(
            "/api/v1/devices/", {"device_id": "x", "name": "x"}
        ).status_code
        == 403
    )
    assert user_client.post("/api/v1/devices/mine/rotate-key/").status_code == 403
    assert user_client.patch("/api/v1/devices/mine/", {"name": "y"}).status_code == 403


def test_anonymous_cannot_read_the_api(anon_client):
    """The API requires authentication."""
    for url in ("/api/v1/devices/", "/api/v1/captures/", "/api/v1/observations/"):
        assert anon_client.get(url).status_code == 401


# Captures -------------------------------------------------------------------------


def test_capture_detail_has_image_url_and_nested_observations(
    user_client, device_and_key
):
    """A capture shows its facts, an image URL that serves the bytes, and its observations."""
    image = images.qr_png("detail-qr")
    capture = analysed(device_and_key[0], image)

    body = user_client.get(f"/api/v1/captures/{capture.public_id}/").json()

    assert body["id"] == capture.public_id and body["device_id"] == "esp32-001"
    assert body["status"] == "completed"
    assert body["content_type"] == "image/png" and (body["width"], body["height"]) == (
        640,
        480,
    )
    [observation] = body["observations"]
    assert [code["value"] for code in observation["codes"]] == ["detail-qr"]
    assert body["image_url"].endswith(f"/api/v1/captures/{capture.public_id}/image/")
    served = user_client.get(body["image_url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == image


def test_capture_filters(staff_client, make_device):
    """Captures filter by device, status and received_at range."""
    from datetime import timedelta

    from django.utils import timezone

    cam_a, _ = make_device("cam-a")
    cam_b, _ = make_device("cam-b")
    old = store(cam_a, images.numbered(1))
    store(cam_a, images.numbered(2))
    done = store(cam_b, images.numbered(3))
    Capture.objects.filter(pk=done.pk).update(status="completed")
    Capture.objects.filter(pk=old.pk).update(
        received_at=timezone.now() - timedelta(days=3)
    )

    def ids(query: str) -> set[str]:
        return {
            c["id"]
            for c in staff_client.get(f"/api/v1/captures/?{query}").json()["results"]
        }

    assert len(ids("device=cam-a")) == 2
    assert ids("status=completed") == {done.public_id}
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert old.public_id not in ids(f"received_after={since}")
    assert ids(f"received_before={since}") == {old.public_id}


def test_owners_see_only_their_captures(user_client, user, other_user, make_device):
    """Non-staff users see the captures of their own devices only."""
    mine, _ = make_device("mine", owner=user)
    theirs, _ = make_device("theirs", owner=other_user)
    own = store(mine, images.numbered(1))
    foreign = store(theirs, images.numbered(2))

    listed = {c["id"] for c in user_client.get("/api/v1/captures/").json()["results"]}

    assert listed == {own.public_id}
    assert user_client.get(f"/api/v1/captures/{foreign.public_id}/").status_code == 404
    assert (
        user_client.get(f"/api/v1/captures/{foreign.public_id}/image/").status_code
        == 404
    )
    assert (
        user_client.post(f"/api/v1/captures/{foreign.public_id}/reprocess/").status_code
        == 404
    )


def test_reprocess_queues_a_high_priority_job(user_client, user, device_and_key):
    """POST reprocess queues captures.analyze at priority 8 for the owner's capture."""
    capture = analysed(device_and_key[0], images.numbered(1))

    response = user_client.post(f"/api/v1/captures/{capture.public_id}/reprocess/")

    assert response.status_code == 202
    job = ProcessingJob.objects.get(id=response.json()["job_id"])
    assert (
        job.priority == 8
        and job.submitted_by == user
        and job.object_id == str(capture.pk)
    )


def test_capture_list_query_count_is_flat(
    staff_client, device_and_key, django_assert_max_num_queries
):
    """Listing captures with observations costs the same few queries for 1 or 5 captures."""
    for number in range(5):
        analysed(device_and_key[0], images.numbered(number))
    with django_assert_max_num_queries(6):
        assert staff_client.get("/api/v1/captures/").status_code == 200


# Observations ------------------------------------------------------------------


def test_observation_filters(staff_client, make_device):
    """Observations filter by device, people/faces counts, code value and label."""
    cam_a, _ = make_device("cam-a")
    cam_b, _ = make_device("cam-b")
    qr = analysed(cam_a, images.qr_png("https://example.test/door-7"))
    face = analysed(cam_b, images.astronaut_jpeg())
    dark = analysed(cam_b, images.solid((10, 10, 10)))

    def captures(query: str) -> set[str]:
        results = staff_client.get(f"/api/v1/observations/?{query}").json()["results"]
        return {o["capture_id"] for o in results}

    assert captures("device=cam-a") == {qr.public_id}
    assert captures("faces_count__gt=0") == {face.public_id}
    assert captures("code=door-7") == {qr.public_id}
    assert captures("code=DOOR") == {qr.public_id}
    assert captures("code=nothing") == set()
    assert captures("label=dark") == {dark.public_id}
    assert captures("label=qr") == {qr.public_id}
    assert face.public_id in captures("label=face")
    assert captures("people_count__gt=100") == set()


def test_owners_see_only_their_observations(user_client, user, other_user, make_device):
    """Observations follow the visibility of their captures."""
    mine, _ = make_device("mine", owner=user)
    theirs, _ = make_device("theirs", owner=other_user)
    own = analysed(mine, images.numbered(1))
    analysed(theirs, images.numbered(2))
    results = user_client.get("/api/v1/observations/").json()["results"]
    assert [o["capture_id"] for o in results] == [own.public_id]


def test_schema_includes_the_captures_api():
    """The OpenAPI schema builds with the captures routes in it."""
    client = APIClient()
    response = client.get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/captures/{public_id}/reprocess/" in text
    assert "/api/v1/devices/{device_id}/rotate-key/" in text
