"""One attempt to deliver a signed webhook, judged: delivered, worth retrying, or not.

Plain Python, no Django: a caller (a job) records each attempt and decides
on retries with its own engine; this module only says what happened and
whether trying again could help.
"""

import time
import uuid
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from outbound.addresses import IPNetwork
from outbound.errors import OutboundError
from outbound.signing import encode_payload
from outbound.signing import post_signed

EVENT_HEADER = "X-Mediaqueue-Event"
DELIVERY_HEADER = "X-Mediaqueue-Delivery"
# Answers that say "not now" rather than "never".
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
RESPONSE_EXCERPT_CHARS = 500


@dataclass(frozen=True)
class DeliveryAttempt:
    """How one POST went; `transient` tells whether a later attempt may succeed."""

    delivered: bool
    transient: bool
    status: int | None
    response_excerpt: str
    error: str
    duration_ms: int
    address: str = ""


def deliver(
    url: str,
    *,
    payload: Mapping[str, Any] | bytes,
    secret: str | bytes,
    event: str,
    delivery_id: str | uuid.UUID,
    timeout_s: float = 10.0,
    allowed_networks: Iterable[str | IPNetwork] = (),
) -> DeliveryAttempt:
    """POST the payload signed (HMAC-SHA256) to `url` through the SSRF guard; never raises.

    A 2xx answer is delivered; 408, 425, 429 and 5xx answers and network
    failures are transient; any other answer (including a redirect, which
    is not followed) or a refused address is final.
    """
    body = payload if isinstance(payload, bytes) else encode_payload(payload)
    started = time.monotonic()
    try:
        response = post_signed(
            url,
            payload=body,
            secret=secret,
            headers={EVENT_HEADER: event, DELIVERY_HEADER: str(delivery_id)},
            timeout_s=timeout_s,
            allowed_networks=allowed_networks,
        )
    except OutboundError as error:
        return DeliveryAttempt(
            delivered=False,
            transient=error.is_transient,
            status=None,
            response_excerpt="",
            error=f"{type(error).__name__}: {error}",
            duration_ms=_elapsed_ms(started),
        )
    excerpt = response.body[:RESPONSE_EXCERPT_CHARS].decode("utf-8", "replace")
    if response.ok:
        return DeliveryAttempt(
            delivered=True,
            transient=False,
            status=response.status,
            response_excerpt=excerpt,
            error="",
            duration_ms=_elapsed_ms(started),
            address=response.address,
        )
    return DeliveryAttempt(
        delivered=False,
        transient=response.status in TRANSIENT_STATUSES,
        status=response.status,
        response_excerpt=excerpt,
        error=f"the receiver answered HTTP {response.status}",
        duration_ms=_elapsed_ms(started),
        address=response.address,
    )


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
