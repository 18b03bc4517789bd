"""Ingest's per-request statements: prepared once, robust to a lost connection, still
one ingest per device at a time."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import transaction

from captures.models import Capture
from captures.models import Device
from captures.services.devices import device_lock_for_ingest
from captures.tests import images
from conftest import database_session_terminate
from conftest import postgres_only
from conftest import prepared_statements


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_ingest_on_a_connection_that_died_is_stored(ingest, make_device, settings):
    """The device lookup stands in for the health check: it reconnects once and goes on."""
    settings.CAPTURES_AUTO_PROCESS = False
    _, key = make_device("esp32-restart")
    database_session_terminate()

    answer = ingest.json(device_id="esp32-restart", key=key, image=images.numbered(1))

    assert answer.status_code == 201, answer.content
    assert Capture.objects.filter(public_id=answer.json()["capture_id"]).exists()


@postgres_only
@pytest.mark.django_db
def test_ingest_statements_are_prepared_once_per_connection(
    ingest, device_and_key, settings
):
    settings.CAPTURES_AUTO_PROCESS = False
    _, key = device_and_key
    for number in (1, 2, 3):
        answer = ingest.json(
            device_id="esp32-001", key=key, image=images.numbered(number)
        )
        assert answer.status_code == 201

    prepared = prepared_statements()
    assert sum("WHERE api_key_hash =" in sql for sql in prepared) == 1
    assert (
        sum("SET last_seen_at = statement_timestamp()" in sql for sql in prepared) == 1
    )
    assert sum("AND sha256 =" in sql for sql in prepared) == 1


@postgres_only
@pytest.mark.django_db
def test_without_prepared_statements_nothing_is_prepared(
    ingest, device_and_key, settings
):
    settings.CAPTURES_AUTO_PROCESS = False
    settings.DB_PREPARED_STATEMENTS = False
    _, key = device_and_key
    for number in (1, 2):
        answer = ingest.json(
            device_id="esp32-001", key=key, image=images.numbered(number)
        )
        assert answer.status_code == 201

    assert not [sql for sql in prepared_statements() if "api_key_hash" in sql]


@pytest.mark.django_db(transaction=True)
def test_the_device_lock_needs_the_callers_transaction(device_and_key):
    device, _ = device_and_key
    with pytest.raises(RuntimeError, match="transaction"):
        device_lock_for_ingest(device=device)
    with transaction.atomic():
        device_lock_for_ingest(device=device)
    device.refresh_from_db()
    assert device.last_seen_at is not None


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("idempotency_key", [None, "boot-7-shot-1"])
def test_concurrent_copies_of_one_capture_store_it_once(
    make_device, start_gunicorn, clean_broker, idempotency_key
):
    """Ten copies of one capture at once, through two server processes: one is stored,
    every other answer names that capture as a duplicate."""
    _, key = make_device("esp32-burst")
    server = start_gunicorn(
        workers=2,
        env={"CAPTURES_AUTO_PROCESS": "false", "CAPTURES_RATE_INGEST": "1000/m"},
    )
    image = images.numbered(42)
    headers = {"X-Device-Key": key}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key

    def post(_):
        return requests.post(
            f"{server.url}/v1/ingest",
            data={"device_id": "esp32-burst"},
            files={"image": ("shot.jpg", image, "image/jpeg")},
            headers=headers,
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(post, range(10)))

    assert sorted(answer.status_code for answer in answers) == [200] * 9 + [201]
    assert len({answer.json()["capture_id"] for answer in answers}) == 1
    assert Capture.objects.count() == 1
    assert Device.objects.get(device_id="esp32-burst").last_seen_at is not None
