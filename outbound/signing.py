"""HMAC-SHA256 signatures of webhook bodies, and the signed, guarded POST that sends them.

The signed message is "<timestamp>.<body>", so a captured delivery cannot be
replayed later with a fresh timestamp; receivers check both headers.
"""

import hashlib
import hmac
import json
import ssl
import time
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from outbound.addresses import IPNetwork
from outbound.fetching import Response
from outbound.fetching import guarded_post

SIGNATURE_HEADER = "X-Mediaqueue-Signature"
TIMESTAMP_HEADER = "X-Mediaqueue-Timestamp"
SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE_S = 300


def sign(body: bytes, *, secret: str | bytes, timestamp: int) -> str:
    """The signature header value for `body` sent at `timestamp` (Unix seconds)."""
    key = secret.encode() if isinstance(secret, str) else secret
    message = str(int(timestamp)).encode("ascii") + b"." + body
    return SIGNATURE_PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()


def signature_headers(
    body: bytes, *, secret: str | bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The signature and timestamp headers for `body` (timestamp defaults to now)."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(body, secret=secret, timestamp=timestamp),
    }


def verify(
    body: bytes,
    *,
    secret: str | bytes,
    signature: str,
    timestamp: str | int,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """True when `signature` matches `body` and `timestamp` is within `tolerance_s` of now."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - sent_at) > tolerance_s:
        return False
    expected = sign(body, secret=secret, timestamp=sent_at)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    """The canonical JSON body of a webhook (sorted keys, compact, UTF-8)."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def post_signed(
    url: str,
    *,
    payload: Mapping[str, Any] | bytes,
    secret: str | bytes,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 10.0,
    timestamp: int | None = None,
    allowed_networks: Iterable[str | IPNetwork] = (),
    ssl_context: ssl.SSLContext | None = None,
) -> Response:
    """POST a JSON payload signed with `secret` through guarded_post; returns its Response."""
    body = payload if isinstance(payload, bytes) else encode_payload(payload)
    return guarded_post(
        url,
        body=body,
        content_type="application/json",
        headers={
            **(headers or {}),
            **signature_headers(body, secret=secret, timestamp=timestamp),
        },
        timeout_s=timeout_s,
        allowed_networks=allowed_networks,
        ssl_context=ssl_context,
    )
