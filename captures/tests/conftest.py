"""Fixtures of the captures tests: devices with keys, ingest helpers, isolated rate limits."""

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from captures import services
from conftest import database_url_for_workers


@pytest.fixture
def make_device(db):
    """make_device(device_id="esp32-001", **fields) -> (device, api_key)."""

    def make(device_id: str = "esp32-001", **fields):
        fields.setdefault("name", f"camera {device_id}")
        return services.device_create(device_id=device_id, **fields)

    return make


@pytest.fixture
def device_and_key(make_device, user):
    return make_device("esp32-001", owner=user)


class Ingest:
    """Posts to /v1/ingest as a device would."""

    def __init__(self, client: APIClient):
        self.client = client

    def json(
        self, *, device_id, key, image: bytes | None = None, payload=None, **fields
    ):
        headers = {
            name: fields.pop(name) for name in list(fields) if name.startswith("HTTP_")
        }
        body = payload if payload is not None else {"device_id": device_id, **fields}
        if image is not None and payload is None:
            body["image_data"] = base64.b64encode(image).decode()
        if key is not None:
            headers["HTTP_X_DEVICE_KEY"] = key
        return self.client.post(
            "/v1/ingest",
            data=json.dumps(body),
            content_type="application/json",
            **headers,
        )

    def multipart(
        self, *, device_id, key, image: bytes | None, filename="capture.jpg", **fields
    ):
        data = {**fields}
        if device_id is not None:
            data["device_id"] = device_id
        if image is not None:
            data["image"] = SimpleUploadedFile(
                filename, image, content_type="image/jpeg"
            )
        headers = {"HTTP_X_DEVICE_KEY": key} if key is not None else {}
        return self.client.post("/v1/ingest", data=data, format="multipart", **headers)


@pytest.fixture
def ingest():
    return Ingest(APIClient())


def media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return (
        sorted(path for path in root.rglob("*") if path.is_file())
        if root.exists()
        else []
    )


class Gunicorn:
    """`gunicorn -w N config.wsgi` on a free port, on the test database, cache and broker."""

    def __init__(self, *, workers: int, env: dict[str, str], log_path: Path):
        settings = django_settings
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
            "API_RATELIMIT_KEY_PREFIX": settings.API_RATELIMIT_KEY_PREFIX,
            **env,
        }
        self._log = open(log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.log_path = log_path
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--timeout",
                "60",
                "config.wsgi:application",
            ],
            cwd=Path(__file__).resolve().parents[2],
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout_s: float = 30) -> "Gunicorn":
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited:\n{self.log_path.read_text()[-3000:]}"
                )
            try:
                # A cold worker's first answer can take seconds on a busy
                # machine: a timeout means "not ready yet", like a refusal.
                requests.get(f"{self.url}/v1/ingest", timeout=5)
                return self
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not answer")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        self._log.close()


@pytest.fixture
def start_gunicorn(tmp_path):
    servers: list[Gunicorn] = []

    def start(*, workers: int = 2, env: dict[str, str] | None = None) -> Gunicorn:
        server = Gunicorn(
            workers=workers,
            env=env or {},
            log_path=tmp_path / f"gunicorn-{len(servers)}.log",
        )
        servers.append(server)
        return server.wait_ready()

    yield start
    for server in servers:
        server.stop()
