"""POST /v1/ingest: the device contract, validation by content, idempotency, clean rejections."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from captures import services
from captures.models import Capture
from captures.models import Device
from captures.tests import images
from captures.tests.conftest import media_files
from jobs.models import ProcessingJob

pytestmark = pytest.mark.django_db


def test_json_ingest_stores_capture_and_queues_analysis(
    ingest, device_and_key, settings
):
    """A base64 JSON post answers 201 with the contract's fields; row, file and job exist."""
    device, key = device_and_key
    image = images.numbered(1)

    response = ingest.json(
        device_id="esp32-001", key=key, image=image, captured_at="2026-01-15T10:30:00Z"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"capture_id", "device_id", "status", "job_id", "task_id"}
    assert body["device_id"] == "esp32-001"
    assert body["status"] == "pending"
    assert body["capture_id"].startswith("cap_")
    assert body["job_id"] == body["task_id"]
    capture = Capture.objects.get(public_id=body["capture_id"])
    assert capture.device == device
    assert (capture.width, capture.height) == images.SIZE
    assert capture.content_type == "image/jpeg"
    assert capture.size_bytes == len(image)
    assert capture.captured_at.isoformat() == "2026-01-15T10:30:00+00:00"
    assert capture.image.read() == image
    job = ProcessingJob.objects.get(id=body["job_id"])
    assert job.job_type == "captures.analyze"
    assert job.object_id == str(capture.pk)
    assert job.status == ProcessingJob.Status.QUEUED
    assert [path.name for path in media_files(settings)] == [f"{capture.public_id}.jpg"]
    device.refresh_from_db()
    assert device.last_seen_at is not None


def test_multipart_ingest_stores_png_by_its_content(ingest, device_and_key):
    """A multipart upload is typed by its bytes (PNG), not by its .jpg name."""
    _, key = device_and_key

    response = ingest.multipart(
        device_id="esp32-001", key=key, image=images.rectangle_at(10), filename="x.jpg"
    )

    assert response.status_code == 201, response.content
    capture = Capture.objects.get(public_id=response.json()["capture_id"])
    assert capture.content_type == "image/png"
    assert capture.image.name.endswith(".png")


def test_webp_is_accepted(ingest, device_and_key):
    """WebP images are accepted."""
    _, key = device_and_key
    response = ingest.json(
        device_id="esp32-001", key=key, image=images.solid(fmt="WEBP")
    )
    assert response.status_code == 201, response.content
    assert Capture.objects.get().content_type == "image/webp"


def test_analysis_job_is_sent_only_after_commit(
    ingest, device_and_key, django_capture_on_commit_callbacks
):
    """The job row is written with the capture; its message waits for the commit."""
    _, key = device_and_key
    with django_capture_on_commit_callbacks() as callbacks:
        response = ingest.json(device_id="esp32-001", key=key, image=images.numbered(2))
        assert ProcessingJob.objects.filter(id=response.json()["job_id"]).exists()
    assert len(callbacks) == 1


def test_auto_process_off_queues_nothing(ingest, device_and_key, settings):
    """With CAPTURES_AUTO_PROCESS off the capture waits as pending with no job."""
    settings.CAPTURES_AUTO_PROCESS = False
    _, key = device_and_key

    response = ingest.json(device_id="esp32-001", key=key, image=images.numbered(3))

    assert response.status_code == 201
    assert response.json()["job_id"] is None and response.json()["task_id"] is None
    assert not ProcessingJob.objects.exists()


def test_replay_of_idempotency_key_answers_existing_capture(ingest, device_and_key):
    """The same idempotency key again answers 200 with the first capture; one row only."""
    _, key = device_and_key
    first = ingest.json(
        device_id="esp32-001",
        key=key,
        image=images.numbered(4),
        idempotency_key="boot-17",
    )
    again = ingest.json(
        device_id="esp32-001",
        key=key,
        image=images.numbered(5),
        idempotency_key="boot-17",
    )

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["capture_id"] == first.json()["capture_id"]
    assert again.json()["job_id"] == first.json()["job_id"]
    assert again.json()["duplicate"] is True
    assert Capture.objects.count() == 1
    assert ProcessingJob.objects.count() == 1


def test_idempotency_key_header_works_like_the_field(ingest, device_and_key):
    """An Idempotency-Key header deduplicates like the body field."""
    _, key = device_and_key
    one = ingest.json(
        device_id="esp32-001",
        key=key,
        image=images.numbered(6),
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    two = ingest.json(
        device_id="esp32-001",
        key=key,
        image=images.numbered(7),
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert (one.status_code, two.status_code) == (201, 200)
    assert Capture.objects.count() == 1


def test_same_bytes_within_window_answer_existing_capture(ingest, device_and_key):
    """Identical bytes from the same device within the window are stored once (200)."""
    _, key = device_and_key
    image = images.numbered(8)
    first = ingest.json(device_id="esp32-001", key=key, image=image)
    again = ingest.multipart(device_id="esp32-001", key=key, image=image)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["capture_id"] == first.json()["capture_id"]
    assert Capture.objects.count() == 1


def test_same_bytes_after_window_make_a_new_capture(ingest, device_and_key):
    """Identical bytes after the deduplication window are a new capture."""
    _, key = device_and_key
    image = images.numbered(9)
    first = ingest.json(device_id="esp32-001", key=key, image=image)
    Capture.objects.update(received_at=timezone.now() - timedelta(minutes=11))

    again = ingest.json(device_id="esp32-001", key=key, image=image)

    assert (first.status_code, again.status_code) == (201, 201)
    assert Capture.objects.count() == 2


def test_same_bytes_from_another_device_are_its_own_capture(ingest, make_device):
    """Deduplication is per device."""
    _, key_a = make_device("cam-a")
    _, key_b = make_device("cam-b")
    image = images.numbered(10)
    assert ingest.json(device_id="cam-a", key=key_a, image=image).status_code == 201
    assert ingest.json(device_id="cam-b", key=key_b, image=image).status_code == 201
    assert Capture.objects.count() == 2


def test_base64_with_line_breaks_and_data_url_prefix_is_accepted(
    ingest, device_and_key
):
    """MIME-style line breaks and a data: URL prefix are tolerated in image_data."""
    _, key = device_and_key
    encoded = base64.encodebytes(images.numbered(11)).decode()  # 76-char lines
    payload = {
        "device_id": "esp32-001",
        "image_data": "data:image/jpeg;base64," + encoded,
    }
    response = ingest.json(device_id=None, key=key, payload=payload)
    assert response.status_code == 201, response.content


# Rejections: status, JSON error, and nothing left behind ------------------------


def assert_rejected(response, status: int, error: str, settings) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error
    assert body["detail"]
    assert not Capture.objects.exists()
    assert not ProcessingJob.objects.exists()
    assert media_files(settings) == []
    return body


@pytest.mark.parametrize(
    ("make_image", "filename"),
    [
        (images.gif, "photo.jpg"),
        (images.pdf, "photo.jpg"),
        (lambda: b"hello world", "a.png"),
    ],
    ids=["gif-renamed-jpg", "pdf-renamed-jpg", "text"],
)
def test_other_types_are_refused_with_415(
    ingest, device_and_key, settings, make_image, filename
):
    """A GIF, PDF or text file is refused by its content (415), whatever its name says."""
    _, key = device_and_key
    multipart = ingest.multipart(
        device_id="esp32-001", key=key, image=make_image(), filename=filename
    )
    assert_rejected(multipart, 415, "unsupported_media_type", settings)
    as_json = ingest.json(device_id="esp32-001", key=key, image=make_image())
    assert_rejected(as_json, 415, "unsupported_media_type", settings)


def test_gif_refusal_names_the_detected_type(ingest, device_and_key, settings):
    """The 415 answer says what the content looked like."""
    _, key = device_and_key
    body = assert_rejected(
        ingest.json(device_id="esp32-001", key=key, image=images.gif()),
        415,
        "unsupported_media_type",
        settings,
    )
    assert body["detected"] == "GIF"


def test_image_over_the_size_limit_is_refused_with_413(
    ingest, device_and_key, settings
):
    """An image larger than CAPTURES_MAX_IMAGE_SIZE is refused (413), JSON and multipart."""
    settings.CAPTURES_MAX_IMAGE_SIZE = 2000
    _, key = device_and_key
    image = images.noisy_jpeg()
    assert len(image) > 100_000
    assert_rejected(
        ingest.json(device_id="esp32-001", key=key, image=image),
        413,
        "request_too_large",
        settings,
    )
    assert_rejected(
        ingest.multipart(device_id="esp32-001", key=key, image=image),
        413,
        "request_too_large",
        settings,
    )


def test_decoded_size_is_checked_when_the_request_is_small_enough(
    ingest, device_and_key, settings
):
    """A body under the request limit whose image still exceeds the limit is refused (413)."""
    _, key = device_and_key
    image = images.numbered(13)
    settings.CAPTURES_MAX_IMAGE_SIZE = (
        len(image) - 1
    )  # the envelope allowance lets it in
    assert_rejected(
        ingest.json(device_id="esp32-001", key=key, image=image),
        413,
        "image_too_large",
        settings,
    )
    assert_rejected(
        ingest.multipart(device_id="esp32-001", key=key, image=image),
        413,
        "image_too_large",
        settings,
    )


def test_decompression_bomb_is_refused_without_decoding(
    ingest, device_and_key, settings
):
    """A tiny PNG declaring 20000x20000 pixels is refused (413) from its header."""
    _, key = device_and_key
    bomb = images.png_bomb()
    assert len(bomb) < 100_000
    body = assert_rejected(
        ingest.multipart(device_id="esp32-001", key=key, image=bomb, filename="x.png"),
        413,
        "too_many_pixels",
        settings,
    )
    assert "pixels" in body["detail"]


def test_pixel_limit_applies_below_pillows_own(ingest, device_and_key, settings):
    """An image over CAPTURES_MAX_IMAGE_PIXELS is refused (413) even when Pillow would open it."""
    settings.CAPTURES_MAX_IMAGE_PIXELS = 100 * 100
    _, key = device_and_key
    assert_rejected(
        ingest.json(
            device_id="esp32-001", key=key, image=images.solid(size=(200, 100))
        ),
        413,
        "too_many_pixels",
        settings,
    )


def test_malformed_base64_is_refused_with_400(ingest, device_and_key, settings):
    """image_data that is not strict base64 is a 400 saying so."""
    _, key = device_and_key
    payload = {"device_id": "esp32-001", "image_data": "not*base64!!"}
    body = assert_rejected(
        ingest.json(device_id=None, key=key, payload=payload),
        400,
        "malformed_base64",
        settings,
    )
    assert "base64" in body["detail"]


def test_truncated_jpeg_is_refused_with_400(ingest, device_and_key, settings):
    """A JPEG cut in half is a 400 saying it is truncated."""
    _, key = device_and_key
    body = assert_rejected(
        ingest.json(device_id="esp32-001", key=key, image=images.truncated_jpeg()),
        400,
        "malformed_image",
        settings,
    )
    assert "truncated" in body["detail"]


def test_jpeg_magic_followed_by_garbage_is_refused_with_400(
    ingest, device_and_key, settings
):
    """Bytes that start like a JPEG but are not one are a 400, not a 415 or a crash."""
    _, key = device_and_key
    assert_rejected(
        ingest.json(
            device_id="esp32-001", key=key, image=b"\xff\xd8\xff" + b"\x00" * 500
        ),
        400,
        "malformed_image",
        settings,
    )


def test_missing_device_id_is_a_400_naming_it(ingest, device_and_key, settings):
    """A body without device_id is a 400 that names the missing field."""
    _, key = device_and_key
    payload = {"image_data": base64.b64encode(images.numbered(14)).decode()}
    body = assert_rejected(
        ingest.json(device_id=None, key=key, payload=payload),
        400,
        "missing_fields",
        settings,
    )
    assert body["fields"] == ["device_id"]
    assert "device_id" in body["detail"]


def test_missing_fields_are_all_named(ingest, device_and_key, settings):
    """An empty JSON object names device_id and image_data; a bare form names device_id and image."""
    _, key = device_and_key
    body = assert_rejected(
        ingest.json(device_id=None, key=key, payload={}),
        400,
        "missing_fields",
        settings,
    )
    assert body["fields"] == ["device_id", "image_data"]
    body = assert_rejected(
        ingest.multipart(device_id=None, key=key, image=None, note="x"),
        400,
        "missing_fields",
        settings,
    )
    assert body["fields"] == ["device_id", "image"]


def test_malformed_json_is_a_400(ingest, device_and_key, settings):
    """A body that is not JSON, or not an object, is a 400."""
    _, key = device_and_key
    for raw in ("{not json", "[1, 2]"):
        response = ingest.client.post(
            "/v1/ingest",
            data=raw,
            content_type="application/json",
            HTTP_X_DEVICE_KEY=key,
        )
        assert_rejected(response, 400, "malformed_json", settings)


def test_bad_captured_at_is_a_400(ingest, device_and_key, settings):
    """captured_at must be ISO-8601."""
    _, key = device_and_key
    body = assert_rejected(
        ingest.json(
            device_id="esp32-001",
            key=key,
            image=images.numbered(15),
            captured_at="yesterday",
        ),
        400,
        "invalid_field",
        settings,
    )
    assert body["field"] == "captured_at"


def test_other_request_content_types_are_a_415(ingest, device_and_key, settings):
    """A body that is neither JSON nor multipart is refused (415)."""
    _, key = device_and_key
    response = ingest.client.post(
        "/v1/ingest",
        data=images.numbered(16),
        content_type="image/jpeg",
        HTTP_X_DEVICE_KEY=key,
    )
    assert_rejected(response, 415, "unsupported_request_type", settings)


def test_unknown_device_is_a_401(ingest, device_and_key, settings):
    """An unknown device_id is refused (401)."""
    _, key = device_and_key
    assert_rejected(
        ingest.json(device_id="esp32-999", key=key, image=images.numbered(17)),
        401,
        "authentication_failed",
        settings,
    )


def test_wrong_or_missing_key_is_a_401(ingest, device_and_key, settings):
    """A wrong X-Device-Key, or none, is refused (401)."""
    assert_rejected(
        ingest.json(device_id="esp32-001", key="mqd_wrong", image=images.numbered(18)),
        401,
        "authentication_failed",
        settings,
    )
    assert_rejected(
        ingest.multipart(device_id="esp32-001", key=None, image=images.numbered(18)),
        401,
        "missing_device_key",
        settings,
    )


def test_inactive_device_is_a_403(ingest, make_device, settings):
    """A disabled device is refused (403) even with its right key."""
    _, key = make_device("esp32-off", is_active=False)
    assert_rejected(
        ingest.json(device_id="esp32-off", key=key, image=images.numbered(19)),
        403,
        "device_inactive",
        settings,
    )


def test_rotated_key_replaces_the_old_one(ingest, device_and_key):
    """After rotation the old key is refused and the new one accepted."""
    device, old_key = device_and_key
    new_key = services.device_rotate_key(device=device)
    assert (
        ingest.json(
            device_id="esp32-001", key=old_key, image=images.numbered(20)
        ).status_code
        == 401
    )
    assert (
        ingest.json(
            device_id="esp32-001", key=new_key, image=images.numbered(20)
        ).status_code
        == 201
    )


def test_get_is_a_405(ingest):
    """Only POST is allowed, answered in JSON."""
    response = ingest.client.get("/v1/ingest")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_failure_after_the_file_was_written_leaves_nothing(
    ingest, device_and_key, settings, monkeypatch
):
    """If queueing fails inside the transaction, the row is rolled back and the file deleted."""
    from captures.services import ingest as ingest_service

    def refuse(**kwargs):
        raise RuntimeError("queueing refused")

    monkeypatch.setattr(ingest_service.job_services, "job_submit", refuse)
    _, key = device_and_key
    with pytest.raises(RuntimeError):
        ingest.json(device_id="esp32-001", key=key, image=images.numbered(21))
    assert not Capture.objects.exists()
    assert media_files(settings) == []


def test_api_key_is_stored_only_as_a_hash(make_device):
    """The database holds the key's SHA-256 and a short prefix, never the key."""
    device, key = make_device("esp32-hash")
    stored = Device.objects.values().get(pk=device.pk)
    assert key not in str(stored)
    assert stored["api_key_prefix"] == key[:12]
    assert len(stored["api_key_hash"]) == 64
