"""/v1/ingest against hostile clients and old firmware: key first, failures metered,
one image per request, client dates bounded, every answer carrying rate-limit headers."""

import base64
import json

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile

from captures.models import Capture
from captures.tests import images

pytestmark = pytest.mark.django_db


def rates(settings, **values):
    settings.CAPTURES_RATE_LIMITS = {**settings.CAPTURES_RATE_LIMITS, **values}


def test_an_unknown_key_is_refused_before_the_body_is_read(ingest, device_and_key):
    """A wrong key with a body that is not even JSON: 401, not 400 — the body was never parsed."""
    response = ingest.client.post(
        "/v1/ingest",
        data=b"{" * 100_000,
        content_type="application/json",
        HTTP_X_DEVICE_KEY="mqd_not-a-key",
    )
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"


def test_failed_authentications_are_limited_per_client_ip(
    ingest, device_and_key, settings
):
    """After the IP's failures are used up, even a right key waits (429, Retry-After)."""
    rates(settings, auth_failures_ip="3/h")
    _, key = device_and_key
    wrong = [
        ingest.json(device_id="esp32-001", key="mqd_wrong", image=images.numbered(n))
        for n in range(3)
    ]
    assert [answer.status_code for answer in wrong] == [401, 401, 401]
    assert wrong[0]["X-RateLimit-Limit"] == "3"
    assert wrong[2]["X-RateLimit-Remaining"] == "0"
    blocked = ingest.json(device_id="esp32-001", key=key, image=images.numbered(9))
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) >= 1
    assert Capture.objects.count() == 0


def test_a_key_of_another_device_is_a_failure_counted_for_that_device_id(
    ingest, make_device, settings
):
    """A device sending another device's id: 401, counted against the named device id;
    past that device id's failure budget, 429."""
    rates(settings, auth_failures_device="1/h")
    make_device("cam-a")
    _, key_b = make_device("cam-b")
    first = ingest.json(device_id="cam-a", key=key_b, image=images.numbered(1))
    second = ingest.json(device_id="cam-a", key=key_b, image=images.numbered(2))
    assert (first.status_code, second.status_code) == (401, 429)
    assert first["X-RateLimit-Limit"] == "1"
    assert int(second["Retry-After"]) >= 1
    assert Capture.objects.count() == 0


def test_two_image_parts_are_refused_not_one_silently_kept(ingest, device_and_key):
    _, key = device_and_key
    response = ingest.client.post(
        "/v1/ingest",
        data={
            "device_id": "esp32-001",
            "image": [
                SimpleUploadedFile("a.jpg", images.numbered(1), "image/jpeg"),
                SimpleUploadedFile("b.jpg", images.numbered(2), "image/jpeg"),
            ],
        },
        HTTP_X_DEVICE_KEY=key,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "too_many_images"
    assert Capture.objects.count() == 0


@pytest.mark.parametrize(
    "captured_at",
    [
        "9999-12-31T23:00:00-05:00",
        "0001-01-01T00:30:00+05:00",
        "2026-01-01T00:00:00+23:40",
        "2026-01-01T00:00:00-21:40",
        "2199-01-01T00:00:00Z",
        "1901-01-01T00:00:00Z",
    ],
)
def test_client_dates_out_of_range_are_a_400_naming_captured_at(
    ingest, device_and_key, captured_at
):
    _, key = device_and_key
    response = ingest.json(
        device_id="esp32-001",
        key=key,
        image=images.numbered(1),
        captured_at=captured_at,
    )
    assert response.status_code == 400, response.content
    assert response.json()["field"] == "captured_at"
    assert Capture.objects.count() == 0


def test_a_recent_date_with_a_real_offset_is_stored(ingest, device_and_key):
    from django.utils import timezone

    _, key = device_and_key
    sent = timezone.now().astimezone(timezone.get_fixed_timezone(-14 * 60))
    response = ingest.json(
        device_id="esp32-001",
        key=key,
        image=images.numbered(1),
        captured_at=sent.isoformat(),
    )
    assert response.status_code == 201
    stored = Capture.objects.get().captured_at
    assert abs((stored - sent).total_seconds()) < 1


@pytest.mark.parametrize("field", ["device_id", "idempotency_key", "captured_at"])
def test_nul_in_a_multipart_field_is_a_400(ingest, device_and_key, field):
    _, key = device_and_key
    fields = {"device_id": "esp32-001", field: "esp\x00001"}
    response = ingest.client.post(
        "/v1/ingest",
        data={**fields, "image": SimpleUploadedFile("a.jpg", images.numbered(1))},
        HTTP_X_DEVICE_KEY=key,
    )
    assert response.status_code in (400, 401), response.content
    assert Capture.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"device_id": "esp32-001\u0000", "image_data": "AAAA"},
        {"device_id": "esp32-001", "image_data": "AAAA", "idempotency_key": "a\u0000b"},
        {"device_id": "esp32-001", "image_data": "AAAA", "x\u0000": 1},
    ],
)
def test_nul_in_json_is_a_400(ingest, device_and_key, body):
    _, key = device_and_key
    response = ingest.client.post(
        "/v1/ingest",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_X_DEVICE_KEY=key,
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_deeply_nested_json_is_a_400_not_a_crash(ingest, device_and_key):
    _, key = device_and_key
    response = ingest.client.post(
        "/v1/ingest",
        data="[" * 50_000 + "]" * 50_000,
        content_type="application/json",
        HTTP_X_DEVICE_KEY=key,
    )
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


@pytest.mark.parametrize("method", ["get", "head", "put", "delete"])
def test_other_methods_are_405_with_allow_and_rate_limit_headers(ingest, method):
    response = getattr(ingest.client, method)("/v1/ingest")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "X-RateLimit-Limit" in response and "X-RateLimit-Remaining" in response


@pytest.mark.parametrize("path", ["/v1/ingest", "/v1/ingest/"])
def test_the_ingest_route_answers_with_and_without_a_trailing_slash(
    ingest, device_and_key, path
):
    _, key = device_and_key
    response = ingest.client.post(
        path,
        data=json.dumps(
            {
                "device_id": "esp32-001",
                "image_data": base64.b64encode(images.numbered(1)).decode(),
            }
        ),
        content_type="application/json",
        HTTP_X_DEVICE_KEY=key,
    )
    assert response.status_code == 201


@pytest.mark.parametrize("path", ["/v1/admin/stats", "/v1/admin/stats/"])
def test_operator_routes_answer_with_and_without_a_trailing_slash(staff_client, path):
    assert staff_client.get(path).status_code == 200


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_from_firmware_is_read_in_full(
    make_device, start_gunicorn, clean_broker
):
    """Transfer-Encoding: chunked, no Content-Length (as microcontroller HTTP stacks
    send): gunicorn decodes the chunks, the project reads them all."""
    _, key = make_device("esp32-chunked")
    server = start_gunicorn(workers=1, env={"CAPTURES_AUTO_PROCESS": "false"})
    body = json.dumps(
        {
            "device_id": "esp32-chunked",
            "image_data": base64.b64encode(images.noisy_jpeg()).decode(),
        }
    ).encode()

    def chunks():
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    response = requests.post(
        f"{server.url}/v1/ingest",
        data=chunks(),
        headers={"X-Device-Key": key, "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    capture = Capture.objects.get(public_id=response.json()["capture_id"])
    assert capture.size_bytes == len(images.noisy_jpeg())


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_over_the_limit_is_a_413_json(
    make_device, start_gunicorn, clean_broker
):
    _, key = make_device("esp32-big")
    server = start_gunicorn(workers=1, env={"API_CHUNKED_BODY_MAX_BYTES": "100000"})

    def chunks():
        for _ in range(300):
            yield b"x" * 1000

    response = requests.post(
        f"{server.url}/v1/ingest",
        data=chunks(),
        headers={"X-Device-Key": key, "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"


def _png_with_damaged_pixels() -> bytes:
    """A PNG whose header and end are whole but whose compressed pixels are damaged."""
    data = bytearray(images.numbered(3, fmt="PNG"))
    start = data.index(b"IDAT") + 4
    for offset in range(start + 10, start + 60):
        data[offset] ^= 0x5A
    return bytes(data)


def test_damage_inside_the_pixels_is_found_by_the_worker_not_the_request(
    ingest, device_and_key, settings
):
    """The request checks structure only (cheap); the analysis job's full decode finds
    the damage, fails for good, and the capture says why."""
    from captures import services

    settings.CAPTURES_AUTO_PROCESS = False
    _, key = device_and_key
    answer = ingest.json(
        device_id="esp32-001", key=key, image=_png_with_damaged_pixels()
    )
    assert answer.status_code == 201, answer.content
    capture = Capture.objects.get(public_id=answer.json()["capture_id"])

    job = services.capture_analyze_now(capture=capture)

    assert job.status == "failed" and job.attempts == 1
    capture.refresh_from_db()
    assert capture.status == "failed"
    assert "cannot be analysed" in capture.error_message


@pytest.mark.parametrize(
    ("image", "words"),
    [
        (lambda: images.numbered(1)[:-2], "end-of-image"),
        (lambda: images.numbered(1, fmt="PNG")[:-12], "IEND"),
        (lambda: images.numbered(1, fmt="WEBP")[:-40], "truncated"),
    ],
    ids=["jpeg", "png", "webp"],
)
def test_a_cut_container_is_refused_in_the_request(
    ingest, device_and_key, image, words
):
    _, key = device_and_key
    answer = ingest.json(device_id="esp32-001", key=key, image=image())
    assert answer.status_code == 400
    assert words in answer.json()["detail"]
    assert Capture.objects.count() == 0
