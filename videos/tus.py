"""The header formats of the tus 1.0 protocol: Upload-Metadata, Upload-Checksum, dates.

tus (https://tus.io/protocols/resumable-upload) resumes an upload at any
byte: the client asks (HEAD) how many bytes the server has and sends the
rest (PATCH with Upload-Offset). This module only reads and writes its
headers; the protocol's routes are in `videos.api.tus`, its storage in
`videos.services.uploads`.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from django.utils.http import http_date

from videos.errors import UploadError

VERSION = "1.0.0"
EXTENSIONS = (
    "creation",
    "creation-with-upload",
    "termination",
    "checksum",
    "expiration",
)
CHECKSUM_ALGORITHMS = ("sha256", "sha1")
DIGEST_SIZES = {"sha256": 32, "sha1": 20}
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
MAX_METADATA_PAIRS = 32
MAX_METADATA_VALUE_CHARS = 1024


def parse_metadata(header: str | None) -> dict[str, str]:
    """Upload-Metadata: comma-separated `key base64value` pairs (the value may be absent)."""
    metadata: dict[str, str] = {}
    if not header or not header.strip():
        return metadata
    pairs = header.split(",")
    if len(pairs) > MAX_METADATA_PAIRS:
        raise UploadError(f"Upload-Metadata has more than {MAX_METADATA_PAIRS} pairs.")
    for pair in pairs:
        parts = pair.strip().split(" ")
        key = parts[0]
        if not key or len(parts) > 2 or not key.isascii() or not key.isprintable():
            raise UploadError(
                f"Upload-Metadata: {pair.strip()!r} is not `key base64value`."
            )
        if key in metadata:
            raise UploadError(f"Upload-Metadata names {key!r} twice.")
        value = ""
        if len(parts) == 2:
            try:
                value = base64.b64decode(parts[1], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise UploadError(
                    f"Upload-Metadata: the value of {key!r} is not base64 of UTF-8 text."
                ) from None
        if "\x00" in value or len(value) > MAX_METADATA_VALUE_CHARS:
            raise UploadError(
                f"Upload-Metadata: the value of {key!r} holds a NUL character or is "
                f"longer than {MAX_METADATA_VALUE_CHARS} characters."
            )
        metadata[key] = value
    return metadata


def format_metadata(metadata: dict[str, str]) -> str:
    """The Upload-Metadata header of stored metadata."""
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode('ascii')}" if value else key
        for key, value in metadata.items()
    )


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    """Upload-Checksum: `algorithm base64digest`; (algorithm, digest) or None if absent."""
    if header is None:
        return None
    parts = header.strip().split(" ")
    if len(parts) != 2:
        raise UploadError("Upload-Checksum must be `algorithm base64digest`.")
    algorithm, encoded = parts[0].lower(), parts[1]
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise UploadError(
            f"Upload-Checksum: {algorithm!r} is not supported; use one of "
            f"{', '.join(CHECKSUM_ALGORITHMS)}."
        )
    try:
        digest = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise UploadError("Upload-Checksum: the digest is not base64.") from None
    if len(digest) != DIGEST_SIZES[algorithm]:
        raise UploadError(
            f"Upload-Checksum: a {algorithm} digest has {DIGEST_SIZES[algorithm]} bytes, "
            f"not {len(digest)}."
        )
    return algorithm, digest


def parse_offset(value: str | None, name: str) -> int:
    """A non-negative integer header (Upload-Offset, Upload-Length)."""
    if value is None or not value.strip().isdigit():
        raise UploadError(f"{name} must be given as a whole number of bytes.")
    return int(value.strip())


def expires_header(moment: datetime) -> str:
    """Upload-Expires, in the HTTP date format (RFC 9110)."""
    return http_date(moment.timestamp())
