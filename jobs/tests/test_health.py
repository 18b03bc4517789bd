"""GET /healthz: database, Redis and workers, each reported on its own."""

import pytest

from jobs import broker

pytestmark = pytest.mark.django_db


@pytest.fixture
def unreachable_redis(settings):
    """Point the broker client at a port nothing listens on (connection refused)."""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    yield
    broker._client_for.cache_clear()


def test_without_a_worker_the_check_is_503_naming_workers(anon_client, clean_broker):
    """No worker answering the ping: 503, workers down, the others still ok."""
    response = anon_client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == "ok"
    assert body["checks"]["workers"].startswith("down:")
    assert "no worker" in body["checks"]["workers"]


def test_with_redis_down_the_check_is_503_naming_redis(anon_client, unreachable_redis):
    """Redis refusing connections: 503 with the reason; the database is still checked."""
    response = anon_client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"].startswith("down: ConnectionError")
    assert checks["database"] == "ok"
    assert "workers" in checks


def test_a_bad_token_header_does_not_hide_the_health(anon_client, clean_broker):
    """The check needs no credentials and ignores broken ones."""
    anon_client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = anon_client.get("/healthz")
    assert response.status_code == 503
    assert set(response.json()["checks"]) == {"database", "redis", "workers"}


@pytest.mark.integration
def test_with_a_worker_running_everything_is_ok(anon_client, start_worker, settings):
    """Database, Redis and one worker answering: 200 and every check ok."""
    # At the test settings' 0.5 s about one ping reply in five arrives late.
    settings.JOBS_INSPECT_TIMEOUT_S = 1.5
    start_worker(queues="default", concurrency=1)
    response = anon_client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok", "workers": "ok (1)"},
    }
