"""Reading a device's ingest request (JSON with base64, or multipart) into plain values.

Only format and shape are checked here; the image itself is checked by
captures.imaging and stored by captures.services.
"""

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import TooManyFieldsSent
from django.core.exceptions import TooManyFilesSent
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ParseError

from captures.errors import BadRequest
from captures.errors import MalformedImage
from captures.errors import PayloadTooLarge
from captures.errors import UnsupportedMediaType
from inputs.datetimes import DateOutOfRange
from inputs.datetimes import client_datetime_check
from inputs.parsers import raw_json_check

# Room for the other fields and the multipart boundaries.
ENVELOPE_BYTES = 64 * 1024
MAX_IDEMPOTENCY_KEY_LENGTH = 255
_DATA_URL = re.compile(rb"^data:[\w/+.-]+;base64,")
# What \s matches in bytes: space, tab, line feed, carriage return, form
# feed, vertical tab.
_WHITESPACE_BYTES = b" \t\n\r\x0c\x0b"


@dataclass
class IngestInput:
    device_id: str
    api_key: str
    captured_at: datetime | None
    idempotency_key: str | None
    image_base64: bytes | None = None
    image_file: object | None = None

    def image_bytes(self) -> bytes:
        """The image, decoded from base64 or read from the upload; size checked first."""
        max_bytes = settings.CAPTURES_MAX_IMAGE_SIZE
        if self.image_file is not None:
            if self.image_file.size > max_bytes:
                raise _too_large(self.image_file.size, max_bytes)
            return self.image_file.read()
        # bytes.translate deletes the whitespace (line breaks of old firmware)
        # in one C pass; a regex takes several times as long on an image.
        encoded = _DATA_URL.sub(b"", self.image_base64 or b"").translate(
            None, _WHITESPACE_BYTES
        )
        if len(encoded) * 3 // 4 - 2 > max_bytes:
            raise _too_large(len(encoded) * 3 // 4, max_bytes)
        try:
            image = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedImage(
                f"image_data is not valid base64: {exc}", code="malformed_base64"
            ) from None
        if len(image) > max_bytes:
            raise _too_large(len(image), max_bytes)
        return image


def _too_large(size: int, max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the image has {size} bytes; the limit is {max_bytes}",
        code="image_too_large",
        limit_bytes=max_bytes,
    )


def _max_request_bytes(*, base64_body: bool) -> int:
    max_bytes = settings.CAPTURES_MAX_IMAGE_SIZE
    image = 4 * math.ceil(max_bytes / 3) if base64_body else max_bytes
    return image + ENVELOPE_BYTES


def _content_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def _check_declared_length(request: HttpRequest, *, base64_body: bool) -> None:
    length = _content_length(request)
    limit = _max_request_bytes(base64_body=base64_body)
    if length is not None and length > limit:
        raise PayloadTooLarge(
            f"the request has {length} bytes; an image of at most "
            f"{settings.CAPTURES_MAX_IMAGE_SIZE} bytes fits in {limit}",
            code="request_too_large",
            limit_bytes=settings.CAPTURES_MAX_IMAGE_SIZE,
        )


def _text_field(value: object, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string", code="invalid_field", field=name)
    if "\x00" in value:
        raise BadRequest(
            f"{name} contains a NUL character", code="invalid_field", field=name
        )
    return value.strip() or None


def _captured_at(value: object) -> datetime | None:
    text = _text_field(value, "captured_at")
    if text is None:
        return None
    try:
        parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise BadRequest(
            f"captured_at must be an ISO-8601 date and time, not {text[:64]!r}",
            code="invalid_field",
            field="captured_at",
        )
    try:
        return client_datetime_check(parsed)
    except DateOutOfRange as exc:
        raise BadRequest(
            f"captured_at: {exc}", code="invalid_field", field="captured_at"
        ) from None


def _idempotency_key(value: object, header: str) -> str | None:
    key = _text_field(value, "idempotency_key") or (header.strip() or None)
    if key is not None and len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise BadRequest(
            f"idempotency_key is longer than {MAX_IDEMPOTENCY_KEY_LENGTH} characters",
            code="invalid_field",
            field="idempotency_key",
        )
    return key


def _missing(fields: list[str]) -> BadRequest:
    return BadRequest(
        f"missing required field(s): {', '.join(fields)}",
        code="missing_fields",
        fields=fields,
    )


def _from_json(request: HttpRequest) -> IngestInput:
    _check_declared_length(request, base64_body=True)
    try:
        body = request.body
    except RequestDataTooBig:
        raise PayloadTooLarge(
            "the request body is too large", code="request_too_large"
        ) from None
    try:
        raw_json_check(body)
    except ParseError as exc:
        raise BadRequest(str(exc.detail), code="malformed_json") from None
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest(
            f"the body is not valid JSON: {exc}", code="malformed_json"
        ) from None
    if not isinstance(payload, dict):
        raise BadRequest("the JSON body must be an object", code="malformed_json")
    device_id = _text_field(payload.get("device_id"), "device_id")
    image_data = payload.get("image_data")
    if image_data is not None and not isinstance(image_data, str):
        raise BadRequest(
            "image_data must be a base64 string",
            code="invalid_field",
            field="image_data",
        )
    missing = [
        name
        for name, value in (("device_id", device_id), ("image_data", image_data))
        if not value
    ]
    if missing:
        raise _missing(missing)
    return IngestInput(
        device_id=device_id,
        api_key=request.headers.get("X-Device-Key", ""),
        captured_at=_captured_at(payload.get("captured_at")),
        idempotency_key=_idempotency_key(
            payload.get("idempotency_key"), request.headers.get("Idempotency-Key", "")
        ),
        image_base64=image_data.encode("ascii", errors="replace"),
    )


def _from_multipart(request: HttpRequest) -> IngestInput:
    _check_declared_length(request, base64_body=False)
    try:
        fields, files = request.POST, request.FILES
    except RequestDataTooBig:
        raise PayloadTooLarge(
            "the form fields are too large", code="request_too_large"
        ) from None
    except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent) as exc:
        raise BadRequest(
            f"the multipart body is malformed: {exc}", code="malformed_multipart"
        ) from None
    images = files.getlist("image")
    if len(images) > 1 or (images and fields.get("image_data")):
        raise BadRequest(
            "send one image per request: one `image` part (or `image_data`)",
            code="too_many_images",
        )
    device_id = _text_field(fields.get("device_id"), "device_id")
    image_file = images[0] if images else None
    image_data = fields.get("image_data")
    missing = [
        name
        for name, value in (
            ("device_id", device_id),
            ("image", image_file or image_data),
        )
        if not value
    ]
    if missing:
        raise _missing(missing)
    return IngestInput(
        device_id=device_id,
        api_key=request.headers.get("X-Device-Key", ""),
        captured_at=_captured_at(fields.get("captured_at")),
        idempotency_key=_idempotency_key(
            fields.get("idempotency_key"), request.headers.get("Idempotency-Key", "")
        ),
        image_file=image_file,
        image_base64=image_data.encode("ascii", errors="replace")
        if image_data
        else None,
    )


def parse_ingest_request(request: HttpRequest) -> IngestInput:
    """The fields of an ingest request; raises captures.errors for a malformed one."""
    content_type = request.content_type or ""
    if content_type == "application/json":
        return _from_json(request)
    if content_type == "multipart/form-data":
        return _from_multipart(request)
    raise UnsupportedMediaType(
        f"send application/json or multipart/form-data, not {content_type or 'no content type'!r}",
        code="unsupported_request_type",
    )
