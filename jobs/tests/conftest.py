"""Fixtures of the operator's-view tests: job rows in any state, media targets with files,
a local webhook receiver.

Media targets come from the apps registry (apps.get_model), never an
import: the engine stays free of media apps, and its generic discovery is
tested against a real media model.
"""

import hashlib
import http.server
import io
import socketserver
import threading
import uuid
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from jobs.history import history_entry
from jobs.models import ProcessingJob

S = ProcessingJob.Status


def jpeg_bytes(width: int = 64, height: int = 48, colour=(40, 120, 200)) -> bytes:
    """A real JPEG image (browsers draw it)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def make_job(**fields) -> ProcessingJob:
    """A job row as the engine would have left it (any status)."""
    defaults = {"job_type": "jobs.diagnostic", "queue": "default", "priority": 5}
    job = ProcessingJob(**{**defaults, **fields})
    job.task_id = job.task_id or str(job.id)
    job.save(force_insert=True)
    return job


def failed_job(error: str, *, minutes_ago: float = 5, **fields) -> ProcessingJob:
    """A job that failed for good `minutes_ago`, with a traceback and its attempt log."""
    now = timezone.now()
    ended = now - timedelta(minutes=minutes_ago)
    started = ended - timedelta(seconds=2)
    return make_job(
        status=S.FAILED,
        attempts=1,
        max_retries=0,
        queued_at=started - timedelta(seconds=1),
        started_at=started,
        completed_at=ended,
        worker="w1@host",
        error_message=error,
        traceback=f'Traceback (most recent call last):\n  File "x.py"\n{error}',
        attempt_log=[
            {
                **history_entry(
                    "attempt_failed",
                    attempt=1,
                    worker="w1@host",
                    started_at=started.isoformat(),
                    error=error,
                    final=True,
                ),
                "at": ended.isoformat(),
            }
        ],
        **fields,
    )


def retrying_job(error: str, *, retry_in_s: float = 30.0, **fields) -> ProcessingJob:
    """A job whose first attempt failed just now and that waits `retry_in_s` to retry."""
    now = timezone.now()
    started = now - timedelta(seconds=3)
    return make_job(
        status=S.RETRYING,
        attempts=1,
        max_retries=3,
        queued_at=started - timedelta(seconds=1),
        started_at=started,
        worker="w2@host",
        error_message=error,
        attempt_log=[
            history_entry(
                "attempt_failed",
                attempt=1,
                worker="w2@host",
                started_at=started.isoformat(),
                error=error,
                retry_in_s=retry_in_s,
            )
        ],
        **fields,
    )


@pytest.fixture
def capture_for():
    """`capture_for(owner, device_id=..., with_file=True)`: a capture (a real media
    model) whose image and thumbnail are real files in the test's media storage."""

    def make(owner, *, device_id: str | None = None, with_file: bool = True):
        device_model = apps.get_model("captures", "Device")
        capture_model = apps.get_model("captures", "Capture")
        device_id = device_id or f"cam-{uuid.uuid4().hex[:8]}"
        device, _ = device_model.objects.get_or_create(
            device_id=device_id,
            defaults={
                "name": device_id,
                "owner": owner,
                "api_key_hash": hashlib.sha256(device_id.encode()).hexdigest(),
            },
        )
        name = f"captures/ops-tests/{uuid.uuid4().hex}.jpg"
        thumbnail = ""
        if with_file:
            name = default_storage.save(name, ContentFile(jpeg_bytes(320, 240)))
            thumbnail = default_storage.save(
                name.replace(".jpg", "-thumb.jpg"), ContentFile(jpeg_bytes(64, 48))
            )
        return capture_model.objects.create(
            device=device,
            image=name,
            thumbnail=thumbnail,
            content_type="image/jpeg",
            size_bytes=1000,
            width=1,
            height=1,
            sha256=uuid.uuid4().hex * 2,
        )

    return make


# A LOCAL WEBHOOK RECEIVER ------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next status of `statuses` (then 204), recording it."""

    port: int = 0
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    server: object = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):
        # HTTPServer.server_bind asks getfqdn() for the address's name: a
        # reverse lookup that would leave loopback.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # noqa: A002 - no access log
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.received.append(Received(self.path, dict(self.headers), body))
            status = state.statuses.pop(0) if state.statuses else 204
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = _Server(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    state.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
