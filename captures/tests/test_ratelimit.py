"""Rate limits of the captures routes and the API: per device/user/IP, headers, 429s, load."""

import base64
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.test import RequestFactory

from captures.models import Capture
from captures.tests import images
from jobs.models import ProcessingJob
from ratelimits import limits as ratelimit

pytestmark = pytest.mark.django_db


def limits(settings, **rates):
    """Per-hour rates: no token comes back during a test's few requests."""
    api = {scope: rates.pop(scope) for scope in ("api", "staff") if scope in rates}
    settings.CAPTURES_RATE_LIMITS = {**settings.CAPTURES_RATE_LIMITS, **rates}
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, **api}


def queue_jobs(count: int) -> None:
    ProcessingJob.objects.bulk_create(
        ProcessingJob(job_type="jobs.diagnostic", queue="default") for _ in range(count)
    )


def test_ingest_answers_carry_rate_limit_headers(ingest, device_and_key, settings):
    """Each accepted ingest shows the limit, what remains and the period."""
    limits(settings, ingest="3/h")
    _, key = device_and_key

    first = ingest.json(device_id="esp32-001", key=key, image=images.numbered(1))
    second = ingest.json(device_id="esp32-001", key=key, image=images.numbered(2))

    assert first.status_code == 201
    assert (first["X-RateLimit-Limit"], first["X-RateLimit-Remaining"]) == ("3", "2")
    assert first["X-RateLimit-Period"] == "3600"
    assert second["X-RateLimit-Remaining"] == "1"
    assert "Retry-After" not in first


def test_default_ingest_limit_is_ten_per_minute(ingest, device_and_key):
    """Out of the box a device may ingest 10 captures per 60 s."""
    _, key = device_and_key
    response = ingest.json(device_id="esp32-001", key=key, image=images.numbered(1))
    assert response["X-RateLimit-Limit"] == "10"
    assert response["X-RateLimit-Period"] == "60"


def test_ingest_over_the_limit_is_a_429_with_retry_after(
    ingest, device_and_key, settings
):
    """Past the device's limit the answer is 429, JSON, with Retry-After; nothing is stored."""
    limits(settings, ingest="3/h")
    _, key = device_and_key
    statuses = [
        ingest.json(
            device_id="esp32-001", key=key, image=images.numbered(n)
        ).status_code
        for n in range(3)
    ]
    over = ingest.json(device_id="esp32-001", key=key, image=images.numbered(9))

    assert statuses == [201, 201, 201]
    assert over.status_code == 429
    body = over.json()
    assert body["error"] == "rate_limited" and "3 requests per 3600s" in body["detail"]
    assert 1 <= int(over["Retry-After"]) <= 3600
    assert over["X-RateLimit-Remaining"] == "0"
    assert Capture.objects.count() == 3


def test_ingest_limit_is_per_device(ingest, make_device, settings):
    """One device at its limit does not hold back another."""
    limits(settings, ingest="1/h")
    _, key_a = make_device("cam-a")
    _, key_b = make_device("cam-b")
    assert (
        ingest.json(device_id="cam-a", key=key_a, image=images.numbered(1)).status_code
        == 201
    )
    assert (
        ingest.json(device_id="cam-a", key=key_a, image=images.numbered(2)).status_code
        == 429
    )
    assert (
        ingest.json(device_id="cam-b", key=key_b, image=images.numbered(3)).status_code
        == 201
    )


def test_failed_authentication_does_not_use_the_devices_quota(
    ingest, device_and_key, settings
):
    """Requests with a wrong key are refused (401) before counting against the device."""
    limits(settings, ingest="2/h")
    _, key = device_and_key
    for n in range(5):
        assert (
            ingest.json(
                device_id="esp32-001", key="mqd_bad", image=images.numbered(n)
            ).status_code
            == 401
        )
    assert (
        ingest.json(
            device_id="esp32-001", key=key, image=images.numbered(7)
        ).status_code
        == 201
    )
    assert (
        ingest.json(
            device_id="esp32-001", key=key, image=images.numbered(8)
        ).status_code
        == 201
    )


def test_limit_halves_at_full_queue_load(ingest, device_and_key, settings):
    """With queued jobs at API_QUEUE_CAPACITY the effective limit is 50%."""
    limits(settings, ingest="10/h")
    settings.API_QUEUE_CAPACITY = 20
    settings.CAPTURES_AUTO_PROCESS = False
    queue_jobs(20)
    _, key = device_and_key

    statuses = [
        ingest.json(device_id="esp32-001", key=key, image=images.numbered(n))
        for n in range(6)
    ]

    assert [r.status_code for r in statuses] == [201] * 5 + [429]
    assert statuses[0]["X-RateLimit-Limit"] == "5"


def test_limit_falls_linearly_with_queue_load(ingest, device_and_key, settings):
    """At 50% load a 10/h limit is 7.5, rounded up to 8; no load gives the full 10."""
    limits(settings, ingest="10/h")
    settings.API_QUEUE_CAPACITY = 20
    settings.CAPTURES_AUTO_PROCESS = False
    _, key = device_and_key
    idle = ingest.json(device_id="esp32-001", key=key, image=images.numbered(1))
    queue_jobs(10)
    loaded = ingest.json(device_id="esp32-001", key=key, image=images.numbered(2))

    assert idle["X-RateLimit-Limit"] == "10"
    assert loaded["X-RateLimit-Limit"] == "8"
    assert loaded["X-RateLimit-Remaining"] == "6"


def test_only_queued_jobs_count_as_load(ingest, device_and_key, settings):
    """Running, completed and failed jobs do not tighten the limit."""
    limits(settings, ingest="10/h")
    settings.API_QUEUE_CAPACITY = 5
    settings.CAPTURES_AUTO_PROCESS = False
    ProcessingJob.objects.bulk_create(
        ProcessingJob(job_type="jobs.diagnostic", queue="default", status=status)
        for status in ["running", "completed", "failed", "cancelled"] * 5
    )
    _, key = device_and_key
    response = ingest.json(device_id="esp32-001", key=key, image=images.numbered(1))
    assert response["X-RateLimit-Limit"] == "10"


def test_load_figure_is_cached_briefly(settings):
    """queue_load() is read from the database at most once per API_LOAD_CACHE_S."""
    settings.API_QUEUE_CAPACITY = 10
    settings.API_LOAD_CACHE_S = 60
    ratelimit.queue_load_forget()
    assert ratelimit.queue_load() == 0
    queue_jobs(10)
    assert ratelimit.queue_load() == 0  # cached
    ratelimit.queue_load_forget()
    assert ratelimit.queue_load() == 1.0


@pytest.mark.parametrize(
    ("configured", "load", "expected"),
    [
        (10, 0, 10),
        (10, 0.5, 8),
        (10, 1, 5),
        (10, 2, 5),
        (100, 0.2, 90),
        (1, 1, 1),
        (5, 0.01, 5),
    ],
)
def test_effective_limit(configured, load, expected):
    """The limit scales from 100% at load 0 to 50% at load 1, rounded up, never below 1."""
    assert ratelimit.effective_limit(configured, load) == expected


def test_process_capture_is_limited_per_user(
    staff_client, staff_user, django_user_model, settings, device_and_key, ingest
):
    """process-capture counts per staff user; another operator has a quota of its own."""
    limits(settings, process_capture="2/h")
    _, key = device_and_key
    capture_id = ingest.json(
        device_id="esp32-001", key=key, image=images.numbered(1)
    ).json()["capture_id"]
    url = f"/v1/admin/process-capture/{capture_id}?sync=false"

    answers = [staff_client.post(url) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0]["X-RateLimit-Limit"] == "2"
    assert answers[1]["X-RateLimit-Remaining"] == "0"
    assert answers[2].json()["error"] == "rate_limited"
    assert int(answers[2]["Retry-After"]) >= 1
    other = django_user_model.objects.create_user("operator2", is_staff=True)
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(other)
    assert client.post(url).status_code == 200


def test_process_pending_has_its_own_limit(staff_client, settings):
    """process-pending is limited separately (default 5/min)."""
    limits(settings, process_pending="1/h")
    assert staff_client.post("/v1/admin/process-pending?sync=true").status_code == 200
    refused = staff_client.post("/v1/admin/process-pending?sync=true")
    assert refused.status_code == 429
    assert refused["X-RateLimit-Period"] == "3600"
    assert staff_client.get("/v1/admin/stats").status_code == 200


def test_other_operator_routes_share_the_default_limit(staff_client, settings):
    """stats, task-status and queue-info count against the "admin" scope."""
    limits(settings, admin="2/h")
    assert staff_client.get("/v1/admin/stats").status_code == 200
    assert staff_client.get("/v1/admin/queue-info").status_code == 200
    over = staff_client.get("/v1/admin/stats")
    assert over.status_code == 429
    assert over.json()["error"] == "rate_limited"


def test_drf_api_default_limit_per_user(user_client, anon_client, settings):
    """/api/v1/ routes are limited per user (default 100/min) with the same headers and 429."""
    limits(settings, api="2/h")
    first = user_client.get("/api/v1/captures/")
    second = user_client.get("/api/v1/observations/")
    third = user_client.get("/api/v1/captures/")

    assert (first.status_code, second.status_code, third.status_code) == (200, 200, 429)
    assert first["X-RateLimit-Limit"] == "2" and first["X-RateLimit-Remaining"] == "1"
    assert third.json()["error"] == "rate_limited"
    assert int(third["Retry-After"]) >= 1
    # Anonymous requests are refused before they are counted.
    assert anon_client.get("/api/v1/captures/").status_code == 401


def test_unlimited_scope_sends_no_headers(user_client, settings):
    """A scope configured empty is not limited and shows no rate-limit headers."""
    limits(settings, api="")
    response = user_client.get("/api/v1/captures/")
    assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response


def test_limiter_outage_lets_requests_through(ingest, device_and_key, settings):
    """With the limiter's Redis unreachable the ingest is accepted (fail open), without headers."""
    _, key = device_and_key
    settings.API_RATELIMIT_REDIS_URL = "redis://127.0.0.1:1/0"
    response = ingest.json(device_id="esp32-001", key=key, image=images.numbered(1))
    assert response.status_code == 201
    assert "X-RateLimit-Limit" not in response


def test_client_ip_trusts_forwarded_for_only_behind_configured_proxies(settings):
    """X-Forwarded-For is ignored unless API_TRUSTED_PROXY_COUNT > 0; then the
    entry the outermost trusted proxy added is the client."""
    request = RequestFactory().get(
        "/",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9, 10.0.0.1",
    )
    settings.API_TRUSTED_PROXY_COUNT = 0
    assert ratelimit.client_ip(request) == "10.0.0.2"
    settings.API_TRUSTED_PROXY_COUNT = 1
    assert ratelimit.client_ip(request) == "10.0.0.1"
    settings.API_TRUSTED_PROXY_COUNT = 2
    assert ratelimit.client_ip(request) == "203.0.113.9"
    settings.API_TRUSTED_PROXY_COUNT = 5  # fewer hops than proxies: not trusted
    assert ratelimit.client_ip(request) == "10.0.0.2"


def test_disabled_rate_limiting_limits_nothing(ingest, device_and_key, settings):
    """API_RATELIMIT_ENABLED=False switches every limit off."""
    settings.API_RATELIMIT_ENABLED = False
    limits(settings, ingest="1/h")
    _, key = device_and_key
    for n in range(3):
        response = ingest.json(device_id="esp32-001", key=key, image=images.numbered(n))
        assert response.status_code == 201
        assert "X-RateLimit-Limit" not in response


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_ingests_through_two_processes_accept_exactly_ten(
    make_device, start_gunicorn, clean_broker, settings
):
    """30 simultaneous ingests from one device against 10/h, served by two gunicorn
    worker processes, accept exactly 10 (201) and refuse 20 (429): the bucket is
    one atomic Redis script shared by both processes."""
    device_id = "burst-1"
    _, key = make_device(device_id)
    server = start_gunicorn(
        workers=2,
        env={"CAPTURES_RATE_INGEST": "10/h", "API_QUEUE_CAPACITY": "1000000"},
    )
    bodies = [
        {
            "device_id": device_id,
            "image_data": base64.b64encode(images.numbered(n)).decode(),
        }
        for n in range(30)
    ]
    start = threading.Barrier(30)

    def post(body):
        start.wait()
        return requests.post(
            f"{server.url}/v1/ingest",
            json=body,
            headers={"X-Device-Key": key},
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = list(pool.map(post, bodies))

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(201) == 10, statuses
    assert statuses.count(429) == 20, statuses
    assert Capture.objects.filter(device__device_id=device_id).count() == 10
    served_by = {
        answer.headers.get("X-RateLimit-Remaining")
        for answer in answers
        if answer.status_code == 201
    }
    assert served_by == {str(n) for n in range(10)}  # each token handed out once
