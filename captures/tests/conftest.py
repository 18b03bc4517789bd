"""Fixtures of the captures tests: devices with keys, ingest helpers, isolated rate limits."""

import base64
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from captures import services
from conftest import gunicorn_starter


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


@pytest.fixture
def start_gunicorn(tmp_path):
    start, servers = gunicorn_starter(tmp_path, default_workers=2)
    yield start
    for server in servers:
        server.stop()
