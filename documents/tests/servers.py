"""Local HTTP servers for the documents tests, on loopback addresses only.

Routes: /article (an HTML article with boilerplate), /plain (text), /redirect?to=,
/slow (answers a byte at a time, forever), /status?code=, /binary, and
POST /hook (records body and headers; answers `hook_statuses` in turn, then 200)
and POST /v1/embeddings (a fake OpenAI-compatible endpoint: vectors from
word hashes, so texts sharing words are close).
"""

import hashlib
import http.server
import ipaddress
import json
import re
import socketserver
import threading
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import parse_qs
from urllib.parse import urlsplit

ARTICLE = """<!doctype html>
<html lang="en"><head><title>Composting at home</title></head>
<body>
<nav><a href="/">Home</a> | <a href="/shop">Shop</a> | Subscribe to our newsletter</nav>
<article>
<h1>Composting at home</h1>
<p>Composting turns kitchen scraps and garden waste into rich soil. A good
compost heap needs a balance of green material, such as vegetable peelings
and grass clippings, and brown material, such as dry leaves and cardboard.</p>
<p>Turn the heap every few weeks so that air reaches the middle; the
microbes that break the material down need oxygen. In warm weather a heap
can be ready in two months; in winter it takes much longer.</p>
<p>Avoid meat, dairy and oily food: they attract rats and smell as they rot.
Eggshells, coffee grounds and tea leaves are all welcome.</p>
</article>
<footer>Copyright 2025 Garden Weekly. All rights reserved. Cookie settings.</footer>
</body></html>
"""
EMBEDDING_SIZE = 64


def fake_embedding(text: str) -> list[float]:
    """A bag-of-words vector: each word adds 1 to a hashed slot."""
    vector = [0.0] * EMBEDDING_SIZE
    for word in re.findall(r"\w+", text.lower()):
        slot = int(hashlib.md5(word.encode()).hexdigest(), 16) % EMBEDDING_SIZE
        vector[slot] += 1.0
    return vector


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LocalServer:
    host: str
    port: int
    server: http.server.ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    hook_statuses: list[int] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def hooks(self) -> list[Received]:
        return [item for item in self.received if item.path.startswith("/hook")]


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):
        # HTTPServer.server_bind asks getfqdn() for the name of the address,
        # a reverse DNS query that would leave loopback.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    local: LocalServer

    def log_message(self, format, *args):  # noqa: A002 - no access log
        pass

    def _answer(self, status: int, body: bytes, content_type: str = "text/html"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        route = urlsplit(self.path)
        query = parse_qs(route.query)
        name = route.path.strip("/")
        if name == "article":
            self._answer(200, ARTICLE.encode(), "text/html; charset=utf-8")
        elif name == "plain":
            text = "Plain notes about sourdough starters and rye flour.\n"
            self._answer(200, text.encode(), "text/plain; charset=utf-8")
        elif name == "binary":
            self._answer(200, b"\x00\x01" * 64, "application/octet-stream")
        elif name == "redirect":
            self.send_response(302)
            self.send_header("Location", query["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif name == "status":
            self._answer(int(query["code"][0]), b"status page")
        elif name == "slow":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            try:
                while not self.local.stopping.wait(0.2):
                    self.wfile.write(b"<p>")
                    self.wfile.flush()
            except OSError:
                return
        else:
            self._answer(404, b"not found")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        path = urlsplit(self.path).path
        self.local.received.append(Received(path, dict(self.headers), body))
        if path.startswith("/hook"):
            status = (
                self.local.hook_statuses.pop(0) if self.local.hook_statuses else 200
            )
            self._answer(status, b'{"ok": true}', "application/json")
        elif path == "/v1/embeddings":
            texts = json.loads(body)["input"]
            data = [
                {"object": "embedding", "index": index, "embedding": fake_embedding(t)}
                for index, t in enumerate(texts)
            ]
            self._answer(200, json.dumps({"data": data}).encode(), "application/json")
        else:
            self._answer(404, b"not found")


def start_server(host: str = "127.0.0.1") -> LocalServer:
    """A threaded server on a loopback `host` and a free port."""
    assert ipaddress.ip_address(host).is_loopback
    handler = type("Handler", (_Handler,), {})
    server = _Server((host, 0), handler)
    local = LocalServer(host, server.server_address[1], server)
    handler.local = local
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    return local
