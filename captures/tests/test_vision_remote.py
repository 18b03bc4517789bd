"""The optional OpenAI-compatible vision analyser, against a local fake HTTP server."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import pytest

from captures import services
from captures import vision_remote
from captures.tests import images


class FakeVisionServer:
    """Answers POST /v1/chat/completions with a canned reply; records what it got."""

    def __init__(
        self, *, reply: str = "", status: int = 200, raw_body: bytes | None = None
    ):
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                server.requests.append(
                    {
                        "path": self.path,
                        "authorization": self.headers.get("Authorization"),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                body = (
                    raw_body
                    if raw_body is not None
                    else json.dumps(
                        {
                            "choices": [
                                {"message": {"role": "assistant", "content": reply}}
                            ]
                        }
                    ).encode()
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def vision_server():
    servers = []

    def start(**kwargs) -> FakeVisionServer:
        server = FakeVisionServer(**kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def analysed_with_remote(settings, device_and_key):
    settings.CAPTURES_OCR_ENABLED = False
    settings.CAPTURES_AUTO_PROCESS = False

    def analyse(server: FakeVisionServer):
        settings.CAPTURES_VISION_API_URL = server.url
        settings.CAPTURES_VISION_API_KEY = "sk-test"
        settings.CAPTURES_VISION_MODEL = "vision-test-model"
        capture = services.capture_ingest(
            device=device_and_key[0], image=images.numbered(1)
        ).capture
        return capture, services.capture_analyze(capture_id=capture.pk)

    return analyse


@pytest.mark.django_db
def test_remote_labels_are_added_to_the_observation(
    vision_server, analysed_with_remote
):
    """The endpoint gets the image as a data URL with the model and key; its labels are stored."""
    server = vision_server(reply='["Person", "parking lot", "person"]')

    capture, observation = analysed_with_remote(server)

    assert observation.remote_labels == ["person", "parking lot"]
    assert "\nparking lot\n" in observation.label_index
    [request] = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["authorization"] == "Bearer sk-test"
    assert request["body"]["model"] == "vision-test-model"
    image_part = request["body"]["messages"][0]["content"][1]
    assert image_part["type"] == "image_url"
    prefix = "data:image/jpeg;base64,"
    assert image_part["image_url"]["url"].startswith(prefix)
    sent = base64.b64decode(image_part["image_url"]["url"][len(prefix) :])
    assert sent == capture.image.open("rb").read()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "server_kwargs",
    [
        {"status": 500, "reply": "x"},
        {"raw_body": b"not json"},
        {"raw_body": b'{"choices": []}'},
    ],
    ids=["http-500", "not-json", "no-choices"],
)
def test_remote_failures_are_not_fatal(
    vision_server, analysed_with_remote, server_kwargs, caplog
):
    """A failing endpoint only costs the remote labels: the analysis completes, a warning is logged."""
    server = vision_server(**server_kwargs)

    capture, observation = analysed_with_remote(server)

    assert observation.remote_labels == []
    capture.refresh_from_db()
    assert capture.status == "completed"
    assert "remote vision analyser failed" in caplog.text


@pytest.mark.django_db
def test_unreachable_endpoint_is_not_fatal(analysed_with_remote, settings):
    """An endpoint nobody listens on is logged and skipped."""
    server = type("Gone", (), {"url": "http://127.0.0.1:1/v1"})()
    settings.CAPTURES_VISION_TIMEOUT_S = 2
    _, observation = analysed_with_remote(server)
    assert observation.remote_labels == []


@pytest.mark.django_db
def test_no_endpoint_configured_means_no_call(settings, device_and_key):
    """Without CAPTURES_VISION_API_URL nothing remote is called."""
    settings.CAPTURES_OCR_ENABLED = False
    settings.CAPTURES_VISION_API_URL = ""
    capture = services.capture_ingest(
        device=device_and_key[0], image=images.numbered(2)
    ).capture
    assert services.capture_analyze(capture_id=capture.pk).remote_labels == []


@pytest.mark.parametrize(
    ("content", "labels"),
    [
        ('["cat", "Dog"]', ["cat", "dog"]),
        ('```json\n["cat"]\n```', ["cat"]),
        ('{"labels": ["tree", "sky"]}', ["tree", "sky"]),
        ("person, bicycle, street", ["person", "bicycle", "street"]),
        ("- person\n- car\n1. tree", ["person", "car", "tree"]),
        ("", []),
    ],
)
def test_parse_labels(content, labels):
    """Replies as a JSON array, an object with labels, or a plain list all give labels."""
    assert vision_remote.parse_labels(content) == labels
