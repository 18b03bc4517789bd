"""A safety net under every outbound test: nothing may leave loopback.

If a guard had a bug, a test could otherwise send real traffic; here any
connection to a non-loopback address or any name lookup other than the
fakes a test installs is blocked and fails the test.
"""

import ipaddress
import socket

import pytest

from outbound.tests.servers import make_certificates
from outbound.tests.servers import start_server


class NetworkEscape(AssertionError):
    pass


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    escapes: list[object] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def checked(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = str(address[0]).split("%")[0]
            if not ipaddress.ip_address(host).is_loopback:
                escapes.append(address)
                raise NetworkEscape(f"blocked a connection to {address}")

    def connect(sock, address):
        checked(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        checked(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        escapes.append(host)
        raise NetworkEscape(f"blocked a name lookup of {host!r}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    for name in ("gethostbyname", "gethostbyname_ex", "gethostbyaddr", "getfqdn"):
        monkeypatch.setattr(socket, name, getaddrinfo)
    yield escapes
    assert escapes == [], f"traffic tried to leave loopback: {escapes}"


@pytest.fixture
def fake_dns(monkeypatch, loopback_only):
    """Answers name lookups from a dict of name -> list of loopback addresses."""
    records: dict[str, list[str]] = {}
    lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        if host not in records:
            raise socket.gaierror(socket.EAI_NONAME, "unknown test name")
        answers = []
        for address in records[host]:
            assert ipaddress.ip_address(address).is_loopback
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            answers.append((family, socket.SOCK_STREAM, 6, "", (address, port)))
        return answers

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return records, lookups


@pytest.fixture
def server():
    local = start_server("127.0.0.1")
    yield local
    local.stop()


@pytest.fixture
def second_server():
    local = start_server("127.0.0.2")
    yield local
    local.stop()


@pytest.fixture
def tls_server(tmp_path):
    certificates = make_certificates(tmp_path, "pinned.test")
    local = start_server("127.0.0.1", tls=certificates.server_context)
    local.certificates = certificates
    yield local
    local.stop()
