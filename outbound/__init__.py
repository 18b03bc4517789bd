"""Server-side outbound HTTP: address checks, SSRF-guarded requests, signed webhooks.

Plain Python with no Django imports, shared by the documents web-page fetcher
and the job engine's webhooks.
"""

from outbound.addresses import AddressKind
from outbound.addresses import check_address
from outbound.addresses import classify_address
from outbound.addresses import is_global_unicast
from outbound.addresses import parse_ip_literal
from outbound.delivery import DeliveryAttempt
from outbound.delivery import deliver
from outbound.errors import FetchFailed
from outbound.errors import FetchTimeout
from outbound.errors import ForbiddenAddress
from outbound.errors import ForbiddenContentType
from outbound.errors import ForbiddenUrl
from outbound.errors import OutboundError
from outbound.errors import ResolutionFailed
from outbound.errors import ResponseTooLarge
from outbound.errors import TooManyRedirects
from outbound.fetching import Response
from outbound.fetching import check_url
from outbound.fetching import guarded_get
from outbound.fetching import guarded_post
from outbound.signing import SIGNATURE_HEADER
from outbound.signing import TIMESTAMP_HEADER
from outbound.signing import encode_payload
from outbound.signing import post_signed
from outbound.signing import sign
from outbound.signing import signature_headers
from outbound.signing import verify

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "AddressKind",
    "DeliveryAttempt",
    "FetchFailed",
    "FetchTimeout",
    "ForbiddenAddress",
    "ForbiddenContentType",
    "ForbiddenUrl",
    "OutboundError",
    "ResolutionFailed",
    "Response",
    "ResponseTooLarge",
    "TooManyRedirects",
    "check_address",
    "check_url",
    "classify_address",
    "deliver",
    "encode_payload",
    "guarded_get",
    "guarded_post",
    "is_global_unicast",
    "parse_ip_literal",
    "post_signed",
    "sign",
    "signature_headers",
    "verify",
]
