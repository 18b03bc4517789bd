"""Local HTTP(S) servers for the outbound tests; they bind to loopback addresses only."""

import datetime
import http.server
import ipaddress
import socketserver
import ssl
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PAGE = b"<html><head><title>Local page</title></head><body>hello</body></html>"


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LocalServer:
    host: str
    port: int
    server: http.server.ThreadingHTTPServer
    requests: list[Recorded] = field(default_factory=list)
    server_names: list[str] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "/", *, scheme: str = "http", host: str = "") -> str:
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):
        # HTTPServer.server_bind asks getfqdn() for the address's name, a
        # reverse DNS query that would leave loopback.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    local: LocalServer

    def log_message(self, format, *args):  # noqa: A002 - silence the access log
        pass

    def do_GET(self):
        self._record(b"")
        route = urlsplit(self.path)
        query = parse_qs(route.query)
        getattr(self, "route_" + route.path.strip("/").replace("-", "_"))(query)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self._record(self.rfile.read(length))
        route = urlsplit(self.path).path.strip("/")
        if route == "redirect":
            self._answer(302, b"", extra={"Location": "/echo"})
        else:
            self._answer(202, b'{"accepted": true}', content_type="application/json")

    def _record(self, body: bytes) -> None:
        self.local.requests.append(Recorded(self.path, dict(self.headers), body))

    def _answer(self, status, body, *, content_type="text/html", extra=None):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def route_page(self, query):
        self._answer(200, PAGE, content_type="text/html; charset=utf-8")

    def route_host(self, query):
        self._answer(200, self.headers["Host"].encode(), content_type="text/plain")

    def route_redirect(self, query):
        self._answer(302, b"", extra={"Location": query["to"][0]})

    def route_chain(self, query):
        left = int(query["n"][0])
        target = f"/chain?n={left - 1}" if left else "/page"
        self._answer(301, b"", extra={"Location": target})

    def route_binary(self, query):
        self._answer(200, b"\x00\x01" * 50, content_type="application/octet-stream")

    def route_untyped(self, query):
        self._answer(200, b"no type", content_type="")

    def route_gzip(self, query):
        self._answer(200, b"\x1f\x8b", extra={"Content-Encoding": "gzip"})

    def route_declared_huge(self, query):
        self._answer(200, b"", extra={"Content-Length": str(10**9)})

    def route_huge(self, query):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Connection", "close")
        self.end_headers()
        block = b"x" * 65536
        for _ in range(400):  # 25 MiB, streamed without a length
            if self.local.stopping.is_set():
                return
            try:
                self.wfile.write(block)
            except OSError:
                return

    def route_truncated(self, query):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"only this much")
        self.close_connection = True

    def route_slow(self, query):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self._drip()

    def route_slow_headers(self, query):
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        self._drip(prefix=b"X-Drip: ")

    def _drip(self, prefix=b""):
        try:
            self.wfile.write(prefix)
            while not self.local.stopping.wait(0.1):
                self.wfile.write(b"a")
                self.wfile.flush()
        except OSError:
            return


def start_server(host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None):
    """A threaded server on `host` (loopback) and a free port, serving the routes above."""
    assert ipaddress.ip_address(host).is_loopback
    handler = type("Handler", (_Handler,), {})
    server = _Server((host, 0), handler)
    local = LocalServer(host, server.server_address[1], server)
    handler.local = local
    if tls is not None:
        tls.sni_callback = lambda sock, name, context: local.server_names.append(name)
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    return local


@dataclass
class TestCertificates:
    ca_file: Path
    server_context: ssl.SSLContext

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def make_certificates(directory: Path, name: str) -> TestCertificates:
    """A throwaway CA and a server certificate for `name`, valid for an hour."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Outbound test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    chain = directory / "server.pem"
    chain.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(chain))
    return TestCertificates(ca_file, context)


def wait_until(condition, timeout_s: float = 2.0) -> bool:
    """Poll `condition` until true or timeout (servers record requests on their threads)."""
    ends = time.monotonic() + timeout_s
    while time.monotonic() < ends:
        if condition():
            return True
        time.sleep(0.01)
    return condition()
