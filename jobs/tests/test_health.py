"""GET /healthz (liveness: process and database) and GET /readyz (readiness in depth)."""

import json
import time

import pytest

from jobs import broker
from jobs import services
from jobs.worker_control import PRESENCE_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def unreachable_redis(settings):
    """Point the broker client at a port nothing listens on (connection refused)."""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    yield
    broker._client_for.cache_clear()


def _present(name: str, queues: list[str], seen_at: float | None = None) -> None:
    record = {"name": name, "queues": queues, "seen_at": seen_at or time.time()}
    broker.broker_client().hset(PRESENCE_KEY, name, json.dumps(record))


def test_liveness_is_200_with_the_database_and_counts_present_workers(
    anon_client, clean_broker
):
    """No worker needed to be alive: 200, database ok, the presence count reported."""
    _present("w1@host", ["default"])
    _present("gone@host", ["default"], seen_at=time.time() - 3600)
    response = anon_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok"},
        "workers_present": 1,
    }


def test_liveness_with_redis_down_is_still_200_without_a_worker_count(
    anon_client, unreachable_redis
):
    """Redis down does not make the web process dead; the worker count is unknown (null)."""
    response = anon_client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["workers_present"] is None


def test_readiness_without_a_worker_is_503_naming_workers(anon_client, clean_broker):
    """No worker answering the ping: 503, workers down, the others still ok."""
    response = anon_client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == "ok"
    assert body["checks"]["workers"].startswith("down:")
    assert "no worker" in body["checks"]["workers"]


def test_readiness_with_redis_down_is_503_naming_redis(anon_client, unreachable_redis):
    """Redis refusing connections: 503 with the reason; the database is still checked."""
    response = anon_client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"].startswith("down: ConnectionError")
    assert checks["database"] == "ok"
    assert set(checks) == {"database", "redis", "workers", "queues"}


def test_readiness_flags_a_queue_with_waiting_jobs_and_no_consumer(
    anon_client, clean_broker
):
    """Jobs wait in `low`, the only live worker consumes `default`: queues is down, naming low."""
    _present("w1@host", ["default"])
    services.job_submit(job_type="jobs.diagnostic", queue="low")
    checks = anon_client.get("/readyz").json()["checks"]
    assert checks["queues"].startswith("down: LookupError: no worker consumes low")


def test_a_bad_token_header_does_not_hide_the_health(anon_client, clean_broker):
    """Both checks need no credentials and ignore broken ones."""
    anon_client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert anon_client.get("/healthz").status_code == 200
    assert set(anon_client.get("/readyz").json()["checks"]) == {
        "database",
        "redis",
        "workers",
        "queues",
    }


@pytest.mark.integration
def test_with_a_worker_running_everything_is_ready(anon_client, start_worker, settings):
    """Database, Redis, one worker answering and consuming: 200 and every check ok."""
    # At the test settings' 0.5 s about one ping reply in five arrives late.
    settings.JOBS_INSPECT_TIMEOUT_S = 1.5
    start_worker(queues="default", concurrency=1)
    response = anon_client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "redis": "ok",
            "workers": "ok (1)",
            "queues": "ok",
        },
    }
    assert anon_client.get("/healthz").json()["workers_present"] == 1
