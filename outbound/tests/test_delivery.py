"""One webhook delivery attempt judged: delivered, transient or final; URLs checked offline."""

import pytest

from outbound import ForbiddenAddress
from outbound import ForbiddenUrl
from outbound import check_url
from outbound import deliver
from outbound import verify
from outbound.delivery import DELIVERY_HEADER
from outbound.delivery import EVENT_HEADER

LOOPBACK = ["127.0.0.0/8"]


def test_a_2xx_answer_is_delivered_and_signed(server):
    attempt = deliver(
        server.url("/hook"),
        payload={"a": 1},
        secret="s3cret",
        event="document.completed",
        delivery_id="e-1",
        allowed_networks=LOOPBACK,
    )
    assert (attempt.delivered, attempt.status, attempt.transient) == (True, 202, False)
    (request,) = server.requests
    assert request.headers[EVENT_HEADER] == "document.completed"
    assert request.headers[DELIVERY_HEADER] == "e-1"
    assert verify(
        request.body,
        secret="s3cret",
        signature=request.headers["X-Mediaqueue-Signature"],
        timestamp=request.headers["X-Mediaqueue-Timestamp"],
    )


def test_a_redirect_is_final_and_not_followed(server):
    attempt = deliver(
        server.url("/redirect"),
        payload={},
        secret="s",
        event="x",
        delivery_id="e",
        allowed_networks=LOOPBACK,
    )
    assert (attempt.delivered, attempt.transient, attempt.status) == (False, False, 302)
    assert [request.path for request in server.requests] == ["/redirect"]


def test_a_refused_address_is_final_and_nothing_is_sent(server):
    attempt = deliver(
        server.url("/hook"), payload={}, secret="s", event="x", delivery_id="e"
    )
    assert (attempt.delivered, attempt.transient) == (False, False)
    assert "ForbiddenAddress" in attempt.error
    assert server.requests == []


def test_nobody_listening_is_transient():
    attempt = deliver(
        "http://127.0.0.1:9/hook",
        payload={},
        secret="s",
        event="x",
        delivery_id="e",
        allowed_networks=LOOPBACK,
        timeout_s=2,
    )
    assert (attempt.delivered, attempt.transient) == (False, True)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("gopher://example.com/", ForbiddenUrl),
        ("http://u:p@example.com/", ForbiddenUrl),
        ("http://127.1/", ForbiddenAddress),
        ("http://0x7f.0.0.1/", ForbiddenAddress),
        ("http://[::ffff:10.0.0.1]/", ForbiddenAddress),
        ("http://169.254.169.254/", ForbiddenAddress),
        ("http://app.localhost/", ForbiddenAddress),
    ],
)
def test_check_url_refuses_without_any_traffic(url, error):
    with pytest.raises(error):
        check_url(url)


def test_check_url_leaves_names_to_the_request():
    check_url("https://example.com/page")
    check_url("http://127.0.0.1:8000/", allowed_networks=LOOPBACK)
