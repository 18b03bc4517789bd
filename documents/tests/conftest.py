"""Fixtures of the documents tests: collections, local HTTP servers, and a loopback fence.

Every test here runs inside a fence: a connection to any address outside
127.0.0.0/8 and ::1, or a name lookup of anything but a loopback literal
or `localhost`, fails the test (a guard's bug must never send traffic out).
"""

import ipaddress
import socket

import pytest

from documents import services
from documents.tests.servers import start_server


class NetworkEscape(AssertionError):
    pass


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def loopback_fence(monkeypatch):
    escapes: list[object] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def checked(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(
            str(address[0])
        ):
            escapes.append(address)
            raise NetworkEscape(f"blocked a connection to {address}")

    def connect(sock, address):
        checked(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        checked(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is None or _is_loopback(str(host)):
            return real_getaddrinfo(host, *args, **kwargs)
        escapes.append(host)
        raise NetworkEscape(f"blocked a name lookup of {host!r}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield escapes
    assert escapes == [], f"traffic tried to leave loopback: {escapes}"


@pytest.fixture
def loopback_allowed(settings):
    """Web pages and webhooks may reach 127.0.0.0/8 (the test servers)."""
    settings.DOCUMENTS_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]


@pytest.fixture
def web():
    server = start_server("127.0.0.1")
    yield server
    server.stop()


@pytest.fixture
def web2():
    """A second server on another loopback address (127.0.0.2)."""
    server = start_server("127.0.0.2")
    yield server
    server.stop()


@pytest.fixture
def collection(user):
    return services.collection_create(owner=user, name="Handbook")


@pytest.fixture
def other_collection(other_user):
    return services.collection_create(owner=other_user, name="Bob's notes")
