"""Webhook signatures: HMAC-SHA256 over timestamp and body, sent by a guarded POST."""

import hashlib
import hmac

import pytest

from outbound import SIGNATURE_HEADER
from outbound import TIMESTAMP_HEADER
from outbound import ForbiddenAddress
from outbound import encode_payload
from outbound import post_signed
from outbound import sign
from outbound import signature_headers
from outbound import verify
from outbound.tests.servers import wait_until

SECRET = "whsec-test"
BODY = b'{"receipt_id":17,"status":"finished"}'


def test_sign_is_hmac_sha256_of_timestamp_dot_body():
    """The signature is documented as sha256=HMAC(secret, "<ts>.<body>")."""
    expected = hmac.new(
        b"whsec-test", b"1700000000." + BODY, hashlib.sha256
    ).hexdigest()
    assert sign(BODY, secret=SECRET, timestamp=1700000000) == f"sha256={expected}"


def test_signature_headers_carry_timestamp_and_signature():
    """Both headers are set, and they verify."""
    headers = signature_headers(BODY, secret=SECRET, timestamp=1700000000)
    assert headers[TIMESTAMP_HEADER] == "1700000000"
    assert (
        verify(
            BODY,
            secret=SECRET,
            signature=headers[SIGNATURE_HEADER],
            timestamp=headers[TIMESTAMP_HEADER],
            now=1700000100,
        )
        is True
    )


@pytest.mark.parametrize(
    ("body", "secret", "timestamp", "now"),
    [
        (BODY + b" ", SECRET, 1700000000, 1700000000),
        (BODY, "other-secret", 1700000000, 1700000000),
        (BODY, SECRET, 1700000001, 1700000001),
        (BODY, SECRET, 1700000000, 1700000000 + 301),
        (BODY, SECRET, "not-a-number", 1700000000),
    ],
)
def test_verify_refuses_tampering_wrong_secret_and_stale_timestamps(
    body, secret, timestamp, now
):
    """Any change to body, secret or timestamp, or a stale delivery, fails."""
    signature = sign(BODY, secret=SECRET, timestamp=1700000000)
    assert (
        verify(body, secret=secret, signature=signature, timestamp=timestamp, now=now)
        is False
    )


def test_encode_payload_is_canonical():
    """Sorted keys and no spaces, so the signed bytes are predictable."""
    assert encode_payload({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()


def test_post_signed_delivers_a_verifiable_body(server):
    """The receiver can verify what it got with the shared secret."""
    response = post_signed(
        server.url("/hook"),
        payload={"receipt_id": 17, "status": "finished"},
        secret=SECRET,
        allowed_networks=["127.0.0.0/8"],
    )
    assert response.status == 202
    assert wait_until(lambda: len(server.requests) == 1)
    received = server.requests[0]
    assert received.body == BODY
    assert (
        verify(
            received.body,
            secret=SECRET,
            signature=received.headers[SIGNATURE_HEADER],
            timestamp=received.headers[TIMESTAMP_HEADER],
        )
        is True
    )


def test_post_signed_is_refused_for_loopback_without_the_switch(server):
    """Signed webhooks are SSRF-guarded like every other outbound request."""
    with pytest.raises(ForbiddenAddress):
        post_signed(server.url("/hook"), payload={"a": 1}, secret=SECRET)
    assert server.requests == []
