"""HTTP requests a server makes on a user's behalf, guarded against SSRF.

The host is resolved once; every address it resolves to must be global
unicast (or in an allowed network), and the connection goes to the checked
address itself, while the Host header, SNI and certificate check keep the
name. Redirects are followed by hand so each hop is checked again. A timer
closes the socket at the deadline, so a server that drips bytes cannot hold
the request past its time limit.
"""

import contextlib
import http.client
import queue
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from urllib.parse import urljoin
from urllib.parse import urlsplit

from outbound.addresses import IPAddress
from outbound.addresses import IPNetwork
from outbound.addresses import check_address
from outbound.addresses import parse_ip_literal
from outbound.errors import FetchFailed
from outbound.errors import FetchTimeout
from outbound.errors import ForbiddenContentType
from outbound.errors import ForbiddenUrl
from outbound.errors import OutboundError
from outbound.errors import ResolutionFailed
from outbound.errors import ResponseTooLarge
from outbound.errors import TooManyRedirects

USER_AGENT = "Mediaqueue/1.0"
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_READ_SIZE = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Response:
    """What a guarded request brought back; `url` is the last hop's."""

    url: str
    status: int
    headers: Mapping[str, str]
    content_type: str
    body: bytes
    address: str
    redirects: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def charset(self) -> str | None:
        for parameter in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "charset":
                return value.strip().strip('"') or None
        return None


@dataclass(frozen=True)
class _Target:
    url: str
    scheme: str
    host: str
    port: int
    path: str


class _Deadline:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.ends_at = time.monotonic() + timeout_s
        self.fired = False

    def remaining(self) -> float:
        left = self.ends_at - time.monotonic()
        if left <= 0 or self.fired:
            raise FetchTimeout(f"no complete answer within {self.timeout_s:g} s")
        return left


@dataclass(frozen=True)
class _Request:
    method: str
    body: bytes | None
    headers: Mapping[str, str]
    deadline: _Deadline
    networks: tuple
    ssl_context: ssl.SSLContext | None
    max_bytes: int
    accepted: tuple[str, ...] | None
    follow: bool


def guarded_get(
    url: str,
    *,
    max_bytes: int = 10 * 1024 * 1024,
    timeout_s: float = 20.0,
    content_types: Iterable[str] | None = None,
    max_redirects: int = MAX_REDIRECTS,
    headers: Mapping[str, str] | None = None,
    allowed_networks: Iterable[str | IPNetwork] = (),
    ssl_context: ssl.SSLContext | None = None,
) -> Response:
    """GET `url` with SSRF checks on every hop and caps on size, time and content type.

    `content_types` lists accepted media types ("text/html", "text/*");
    None accepts any. `allowed_networks` is for tests reaching local servers.
    """
    accepted = None
    if content_types is not None:
        accepted = tuple(kind.strip().lower() for kind in content_types)
    request = _Request(
        method="GET",
        body=None,
        headers={"Accept": ", ".join(accepted or ["*/*"]), **(headers or {})},
        deadline=_Deadline(timeout_s),
        networks=tuple(allowed_networks),
        ssl_context=ssl_context,
        max_bytes=max_bytes,
        accepted=accepted,
        follow=True,
    )
    redirects: list[str] = []
    while True:
        answer = _exchange(_parse_url(url), request)
        if isinstance(answer, Response):
            return replace(answer, redirects=tuple(redirects))
        if len(redirects) >= max_redirects:
            raise TooManyRedirects(f"more than {max_redirects} redirects from {url}")
        redirects.append(url)
        url = urljoin(url, answer)


def guarded_post(
    url: str,
    *,
    body: bytes,
    content_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
    max_bytes: int = 64 * 1024,
    timeout_s: float = 10.0,
    allowed_networks: Iterable[str | IPNetwork] = (),
    ssl_context: ssl.SSLContext | None = None,
) -> Response:
    """POST `body` to `url` under the same checks; a redirect is returned, not followed."""
    request = _Request(
        method="POST",
        body=body,
        headers={"Content-Type": content_type, **(headers or {})},
        deadline=_Deadline(timeout_s),
        networks=tuple(allowed_networks),
        ssl_context=ssl_context,
        max_bytes=max_bytes,
        accepted=None,
        follow=False,
    )
    answer = _exchange(_parse_url(url), request)
    assert isinstance(answer, Response)
    return answer


def check_url(url: str, *, allowed_networks: Iterable[str | IPNetwork] = ()) -> None:
    """Refuse, without any network traffic, a URL a guarded request would refuse for sure.

    Checks the scheme, credentials and port, and a host that is an address
    literal or a `localhost` name; other names are judged when the request
    resolves them. For answering a user at once (400) instead of later.
    """
    target = _parse_url(url)
    address = parse_ip_literal(target.host)
    if address is None and (
        target.host == "localhost" or target.host.endswith(".localhost")
    ):
        address = parse_ip_literal("127.0.0.1")
    if address is not None:
        check_address(address, allowed_networks=tuple(allowed_networks))


def _parse_url(url: str) -> _Target:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise ForbiddenUrl(f"invalid URL {url!r}: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ForbiddenUrl(f"only http and https URLs are fetched, not {scheme!r}")
    if parts.username is not None or parts.password is not None:
        raise ForbiddenUrl("URLs with credentials are not fetched")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ForbiddenUrl(f"URL {url!r} has no host")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ForbiddenUrl(f"invalid host name {host!r}") from None
    if port == 0:
        raise ForbiddenUrl("port 0 is not a port")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(url, scheme, host, port or _DEFAULT_PORTS[scheme], path)


def _resolve(host: str, port: int, deadline: _Deadline) -> list[IPAddress]:
    literal = parse_ip_literal(host)
    if literal is not None:
        return [literal]
    if host == "localhost" or host.endswith(".localhost"):
        # RFC 6761: always loopback, never sent to a resolver.
        return [parse_ip_literal("127.0.0.1")]
    results: queue.SimpleQueue = queue.SimpleQueue()

    def lookup() -> None:
        try:
            results.put(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError) as error:
            results.put(error)

    # getaddrinfo cannot be interrupted: a lookup that outlives the request
    # finishes on its own daemon thread and is discarded.
    threading.Thread(target=lookup, daemon=True, name="outbound-resolve").start()
    try:
        infos = results.get(timeout=deadline.remaining())
    except queue.Empty:
        raise FetchTimeout(f"resolving {host} took too long") from None
    if isinstance(infos, Exception):
        raise ResolutionFailed(f"cannot resolve {host}: {infos}")
    addresses: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = parse_ip_literal(sockaddr[0].split("%")[0])
        if address is not None and address not in addresses:
            addresses.append(address)
    if not addresses:
        raise ResolutionFailed(f"{host} has no address")
    return addresses


def _exchange(target: _Target, request: _Request) -> Response | str:
    """One request to one hop: a Response, or the Location to go to next."""
    deadline = request.deadline
    addresses = _resolve(target.host, target.port, deadline)
    # Every address must pass: a name that mixes public and internal
    # addresses is refused rather than trusted to pick the public one.
    for address in addresses:
        check_address(address, allowed_networks=request.networks)
    last_error: OutboundError | None = None
    for address in addresses:
        connection = _connection(target, address, request)
        watchdog = threading.Timer(
            deadline.remaining(), _abort, args=(connection, deadline)
        )
        watchdog.daemon = True
        watchdog.start()
        try:
            try:
                connection.connect()
            except OSError as error:
                deadline.remaining()
                last_error = FetchFailed(
                    f"cannot connect to {target.host} ({address}): {error}"
                )
                continue
            return _send(connection, target, request, address=str(address))
        except OutboundError:
            raise
        except (OSError, http.client.HTTPException) as error:
            deadline.remaining()
            raise FetchFailed(f"request to {target.host} failed: {error}") from None
        finally:
            watchdog.cancel()
            connection.close()
    assert last_error is not None
    raise last_error


def _send(
    connection: http.client.HTTPConnection,
    target: _Target,
    request: _Request,
    *,
    address: str,
) -> Response | str:
    headers = {
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",
        "Connection": "close",
        **request.headers,
    }
    connection.request(request.method, target.path, body=request.body, headers=headers)
    answer = connection.getresponse()
    answer_headers = {name.lower(): value for name, value in answer.getheaders()}
    location = answer_headers.get("location")
    if request.follow and answer.status in REDIRECT_STATUSES and location:
        return location
    encoding = answer_headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise ForbiddenContentType(f"content encoding {encoding!r} was not asked for")
    content_type = answer_headers.get("content-type", "").split(";")[0].strip().lower()
    if request.accepted is not None and not _type_accepted(
        content_type, request.accepted
    ):
        raise ForbiddenContentType(
            f"content type {content_type or 'missing'!r} is not one of "
            f"{', '.join(request.accepted)}"
        )
    declared = answer_headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > request.max_bytes:
        raise ResponseTooLarge(
            f"response of {declared} bytes is over the {request.max_bytes} byte limit"
        )
    body = _read_body(connection, answer, request)
    return Response(
        url=target.url,
        status=answer.status,
        headers=answer_headers,
        content_type=content_type,
        body=body,
        address=address,
    )


def _read_body(
    connection: http.client.HTTPConnection,
    answer: http.client.HTTPResponse,
    request: _Request,
) -> bytes:
    chunks = []
    size = 0
    while True:
        connection.raw_sock.settimeout(request.deadline.remaining())
        chunk = answer.read1(_READ_SIZE)
        if not chunk:
            break
        size += len(chunk)
        if size > request.max_bytes:
            raise ResponseTooLarge(
                f"response is over the {request.max_bytes} byte limit"
            )
        chunks.append(chunk)
    # The watchdog's shutdown looks like an ordinary end of the body.
    request.deadline.remaining()
    if answer.length:
        raise FetchFailed("the connection closed before the end of the body")
    return b"".join(chunks)


def _connection(
    target: _Target, address: IPAddress, request: _Request
) -> http.client.HTTPConnection:
    timeout = request.deadline.remaining()
    if target.scheme == "https":
        context = request.ssl_context or ssl.create_default_context()
        return _PinnedHTTPSConnection(
            target.host, target.port, address=address, timeout=timeout, context=context
        )
    return _PinnedHTTPConnection(
        target.host, target.port, address=address, timeout=timeout
    )


def _open_socket(address: IPAddress, port: int, timeout: float) -> socket.socket:
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.connect((str(address), port))
    except BaseException:
        sock.close()
        raise
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address; `host` still names the Host header."""

    def __init__(self, host: str, port: int, *, address: IPAddress, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.pinned_address = address

    def connect(self) -> None:
        self.sock = self.raw_sock = _open_socket(
            self.pinned_address, self.port, self.timeout
        )


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As _PinnedHTTPConnection, with SNI and the certificate checked for the name."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        address: IPAddress,
        timeout: float,
        context: ssl.SSLContext,
    ):
        super().__init__(host, port, timeout=timeout, context=context)
        self.pinned_address = address

    def connect(self) -> None:
        sock = _open_socket(self.pinned_address, self.port, self.timeout)
        try:
            self.sock = self.raw_sock = self._context.wrap_socket(
                sock, server_hostname=self.host
            )
        except BaseException:
            sock.close()
            raise


def _abort(connection: http.client.HTTPConnection, deadline: _Deadline) -> None:
    deadline.fired = True
    # http.client drops connection.sock once the response owns the socket.
    sock = getattr(connection, "raw_sock", None)
    if sock is not None:
        # The plain socket's shutdown, even for TLS: it wakes a blocked read
        # without touching the SSL object another thread is using.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _type_accepted(content_type: str, accepted: tuple[str, ...]) -> bool:
    major = content_type.split("/")[0]
    return any(
        kind == content_type or (kind.endswith("/*") and kind[:-2] == major)
        for kind in accepted
    )
