"""The guarded HTTP client against local servers of the test, on loopback only."""

import socket
import time

import pytest

from outbound import FetchFailed
from outbound import FetchTimeout
from outbound import ForbiddenAddress
from outbound import ForbiddenContentType
from outbound import ForbiddenUrl
from outbound import ResolutionFailed
from outbound import ResponseTooLarge
from outbound import TooManyRedirects
from outbound import guarded_get
from outbound import guarded_post
from outbound.tests.conftest import NetworkEscape
from outbound.tests.servers import PAGE
from outbound.tests.servers import wait_until

LOOPBACK = ["127.0.0.0/8"]


def test_get_fetches_a_page_when_loopback_is_allowed(server):
    """With the test switch on, a local page comes back with its type and address."""
    response = guarded_get(
        server.url("/page"), allowed_networks=LOOPBACK, content_types=["text/html"]
    )
    assert response.status == 200
    assert response.ok is True
    assert response.body == PAGE
    assert response.content_type == "text/html"
    assert response.charset == "utf-8"
    assert response.address == "127.0.0.1"
    assert response.redirects == ()


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f.0.0.1",
        "017700000001",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "localhost",
        "LOCALHOST.",
        "api.localhost",
        "0.0.0.0",
        "0",
    ],
)
def test_get_refuses_every_spelling_of_this_machine(server, host):
    """Loopback is refused however it is written, and the server never hears of it."""
    with pytest.raises(ForbiddenAddress, match="only global unicast"):
        guarded_get(server.url("/page", host=host))
    assert server.requests == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://127.0.0.1/", "only http and https"),
        ("gopher://127.0.0.1:70/", "only http and https"),
        ("http://user:secret@127.0.0.1/", "credentials"),
        ("http:///nohost", "no host"),
        ("http://127.0.0.1:99999/", "invalid URL"),
        ("http://127.0.0.1:0/", "port 0"),
        ("http://256.0.0.1/", "invalid IPv4"),
    ],
)
def test_get_refuses_urls_it_does_not_fetch(url, message):
    """Schemes other than http(s), credentials and malformed hosts are refused up front."""
    with pytest.raises(ForbiddenUrl, match=message):
        guarded_get(url, allowed_networks=LOOPBACK)


def test_redirect_to_loopback_is_refused_when_the_switch_does_not_cover_it(
    server, second_server
):
    """A hop is checked again: 127.0.0.2 is allowed, its redirect to 127.0.0.1 is not."""
    url = second_server.url(f"/redirect?to={server.url('/page')}")
    with pytest.raises(ForbiddenAddress, match="127.0.0.1 is a loopback"):
        guarded_get(url, allowed_networks=["127.0.0.2/32"])
    assert [r.path for r in second_server.requests] == [
        f"/redirect?to={server.url('/page')}"
    ]
    assert server.requests == []


@pytest.mark.parametrize(
    "target",
    ["http://[::ffff:127.0.0.1]:1/", "http://169.254.169.254/latest/meta-data/"],
)
def test_redirect_to_a_forbidden_range_is_refused_before_connecting(server, target):
    """Redirects to mapped or link-local addresses fail the check; no connection is made."""
    with pytest.raises(ForbiddenAddress):
        guarded_get(server.url(f"/redirect?to={target}"), allowed_networks=LOOPBACK)


def test_redirect_to_another_scheme_is_refused(server):
    """A redirect to file:// is refused like a first URL would be."""
    with pytest.raises(ForbiddenUrl, match="only http and https"):
        guarded_get(
            server.url("/redirect?to=file:///etc/passwd"), allowed_networks=LOOPBACK
        )


def test_five_redirects_are_followed_and_recorded(server):
    """Relative redirects are resolved against the current URL, up to five hops."""
    response = guarded_get(server.url("/chain?n=4"), allowed_networks=LOOPBACK)
    assert response.body == PAGE
    assert response.url == server.url("/page")
    assert len(response.redirects) == 5
    assert response.redirects[0] == server.url("/chain?n=4")


def test_a_sixth_redirect_is_refused(server):
    """Six redirects in a row exceed the limit."""
    with pytest.raises(TooManyRedirects, match="more than 5 redirects"):
        guarded_get(server.url("/chain?n=5"), allowed_networks=LOOPBACK)
    assert len(server.requests) == 6


def test_name_is_resolved_once_and_the_checked_address_is_used(fake_dns, second_server):
    """A rebinding name cannot swap addresses: one lookup, and the Host header kept."""
    records, lookups = fake_dns
    records["rebind.test"] = ["127.0.0.2"]
    url = second_server.url("/host", host="rebind.test")

    response = guarded_get(url, allowed_networks=["127.0.0.2/32"])

    assert response.body == f"rebind.test:{second_server.port}".encode()
    assert response.address == "127.0.0.2"
    assert lookups == ["rebind.test"]


def test_name_with_any_forbidden_address_is_refused(fake_dns, server, second_server):
    """All addresses of a name must pass, so a mixed answer is refused outright."""
    records, _ = fake_dns
    records["mixed.test"] = ["127.0.0.2", "127.0.0.1"]
    with pytest.raises(ForbiddenAddress, match="127.0.0.1"):
        guarded_get(
            second_server.url("/page", host="mixed.test"),
            allowed_networks=["127.0.0.2/32"],
        )
    assert second_server.requests == []
    assert server.requests == []


def test_unknown_name_fails_resolution(fake_dns):
    """A name with no address is a transient resolution failure."""
    with pytest.raises(ResolutionFailed) as raised:
        guarded_get("http://missing.test/", allowed_networks=LOOPBACK)
    assert raised.value.is_transient is True
    assert "cannot resolve missing.test" in str(raised.value)


def test_https_connects_to_the_pinned_address_with_sni_and_certificate_of_the_name(
    fake_dns, tls_server
):
    """TLS goes to the checked IP while SNI and the certificate check use the name."""
    records, lookups = fake_dns
    records["pinned.test"] = ["127.0.0.1"]
    response = guarded_get(
        tls_server.url("/host", scheme="https", host="pinned.test"),
        allowed_networks=LOOPBACK,
        ssl_context=tls_server.certificates.client_context(),
    )
    assert response.body == f"pinned.test:{tls_server.port}".encode()
    assert tls_server.server_names == ["pinned.test"]
    assert lookups == ["pinned.test"]


def test_https_refuses_a_certificate_for_another_name(fake_dns, tls_server):
    """The pinned address does not weaken the certificate check."""
    records, _ = fake_dns
    records["other.test"] = ["127.0.0.1"]
    with pytest.raises(FetchFailed, match="certificate"):
        guarded_get(
            tls_server.url("/page", scheme="https", host="other.test"),
            allowed_networks=LOOPBACK,
            ssl_context=tls_server.certificates.client_context(),
        )


@pytest.mark.parametrize("route", ["/slow", "/slow-headers"])
def test_a_server_that_drips_forever_times_out(server, route):
    """The total time limit holds even when bytes keep trickling in."""
    started = time.monotonic()
    with pytest.raises(FetchTimeout, match="within 0.6 s"):
        guarded_get(server.url(route), allowed_networks=LOOPBACK, timeout_s=0.6)
    assert time.monotonic() - started < 2.0


def test_a_huge_streamed_body_is_cut_off_at_the_limit(server):
    """A body with no declared length is refused as soon as it passes the cap."""
    with pytest.raises(ResponseTooLarge, match="over the 1048576 byte limit"):
        guarded_get(server.url("/huge"), allowed_networks=LOOPBACK, max_bytes=1 << 20)


def test_a_declared_huge_body_is_refused_before_reading(server):
    """A Content-Length over the cap is refused from the headers alone."""
    with pytest.raises(ResponseTooLarge, match="1000000000 bytes"):
        guarded_get(server.url("/declared-huge"), allowed_networks=LOOPBACK)


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ("/binary", "'application/octet-stream' is not one of text/html"),
        ("/untyped", "'missing' is not one of"),
        ("/gzip", "encoding 'gzip'"),
    ],
)
def test_unexpected_content_is_refused(server, route, message):
    """Wrong or missing content types and unrequested encodings are refused."""
    with pytest.raises(ForbiddenContentType, match=message):
        guarded_get(
            server.url(route), allowed_networks=LOOPBACK, content_types=["text/html"]
        )


def test_content_type_wildcards_accept_a_family(server):
    """ "text/*" accepts text/plain."""
    response = guarded_get(
        server.url("/host"), allowed_networks=LOOPBACK, content_types=["text/*"]
    )
    assert response.content_type == "text/plain"


def test_a_truncated_body_fails(server):
    """A connection closed before Content-Length bytes is a failure, not a short page."""
    with pytest.raises(FetchFailed, match="before the end of the body"):
        guarded_get(server.url("/truncated"), allowed_networks=LOOPBACK)


def test_a_closed_port_fails_transiently(server):
    """Connection refused is reported as a transient failure."""
    port = server.port
    server.stop()
    with pytest.raises(FetchFailed, match="cannot connect") as raised:
        guarded_get(f"http://127.0.0.1:{port}/", allowed_networks=LOOPBACK)
    assert raised.value.is_transient is True


def test_post_sends_body_and_headers(server):
    """guarded_post delivers the body with its content type and returns the answer."""
    response = guarded_post(
        server.url("/hook"),
        body=b'{"event":"done"}',
        headers={"X-Delivery": "42"},
        allowed_networks=LOOPBACK,
    )
    assert response.status == 202
    assert wait_until(lambda: len(server.requests) == 1)
    received = server.requests[0]
    assert received.body == b'{"event":"done"}'
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["X-Delivery"] == "42"


def test_post_does_not_follow_redirects(server):
    """A webhook answered with a redirect is not re-sent elsewhere."""
    response = guarded_post(
        server.url("/redirect"), body=b"{}", allowed_networks=LOOPBACK
    )
    assert response.status == 302
    assert len(server.requests) == 1


def test_post_to_loopback_is_refused_without_the_switch(server):
    """Webhooks get the same address checks as GETs."""
    with pytest.raises(ForbiddenAddress):
        guarded_post(server.url("/hook"), body=b"{}")
    assert server.requests == []


def test_the_loopback_safety_net_is_in_place(loopback_only):
    """Connections and name lookups are intercepted for every test in this package."""
    assert "loopback_only" in socket.socket.connect.__qualname__
    with pytest.raises(NetworkEscape):
        socket.getaddrinfo("example.org", 80)
    loopback_only.clear()
