"""DRF parsers that refuse what would crash a parser or poison the database (400)."""

import json

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from inputs import scanning


def raw_json_check(raw: bytes) -> None:
    """Raise ParseError for JSON nested deeper than API_MAX_JSON_DEPTH or holding NUL."""
    limit = settings.API_MAX_JSON_DEPTH
    # A text with no more brackets than the limit cannot nest deeper: the
    # usual body (an image in base64, a few fields) skips the full scan.
    depth = scanning.json_depth(raw) if scanning.json_openers(raw) > limit else 0
    if depth > limit:
        raise ParseError(
            f"the JSON body is nested {depth} levels deep; the limit is {limit}"
        )
    if scanning.json_has_nul(raw):
        raise ParseError("the JSON body contains a NUL character (\\u0000)")


class GuardedJSONParser(parsers.JSONParser):
    """DRF's JSON parser, after the depth and NUL checks of the raw body."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        raw_json_check(raw)
        if not raw:
            raise ParseError("the JSON body is empty")
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


def _refuse_nul(data, files) -> None:
    for key, values in data.lists():
        if scanning.text_has_nul(key) or scanning.text_has_nul(values):
            raise ParseError(f"the form field {key!r} contains a NUL character")
    for key, uploaded in files.items():
        if "\x00" in key or "\x00" in (uploaded.name or ""):
            raise ParseError(f"the file field {key!r} has a NUL character in its name")


class GuardedFormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _refuse_nul(data, {})
        return data


class GuardedMultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        _refuse_nul(parsed.data, parsed.files)
        return parsed
