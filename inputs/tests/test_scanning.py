"""The raw-body checks: depth with strings skipped, NUL raw or escaped, and their
shortcuts for the usual body (an image in base64)."""

import base64
import json
import os

import pytest
from rest_framework.exceptions import ParseError

from inputs import scanning
from inputs.parsers import raw_json_check


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b"{}", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        # Brackets inside strings are text, escaped quotes do not end a string.
        (b'{"a": "[[[[{{{{"}', 1),
        (b'{"a": "say \\"[[[\\" twice", "b": [[]]}', 3),
        (b'["\\\\", [["\\\\\\""]]]', 3),
        (b'"just a string"', 0),
    ],
)
def test_depth_counts_arrays_and_objects_outside_strings(text, depth):
    assert scanning.json_depth(text) == depth


def test_a_base64_image_body_is_one_level_deep():
    image = base64.b64encode(os.urandom(150_000)).decode()
    body = json.dumps({"device_id": "esp32-001", "image_data": image}).encode()
    assert scanning.json_depth(body) == 1
    assert scanning.json_openers(body) == 1


def test_deep_nesting_is_refused_even_when_strings_hold_many_brackets(settings):
    settings.API_MAX_JSON_DEPTH = 4
    padded = b'{"pad": "' + b"[" * 100 + b'", "x": ' + b"[" * 5 + b"]" * 5 + b"}"
    with pytest.raises(ParseError, match="nested 6 levels"):
        raw_json_check(padded)
    # Many brackets, but all inside a string: allowed.
    raw_json_check(b'{"pad": "' + b"[" * 100 + b'"}')


@pytest.mark.parametrize(
    ("text", "has_nul"),
    [
        (b'{"a": "x\x00y"}', True),
        (b'{"a": "x\\u0000y"}', True),
        (b'{"a": "\\\\\\u0000"}', True),  # escaped backslash, then an escaped NUL
        (b'{"a": "\\\\u0000"}', False),  # escaped backslash, then the text u0000
        (b'{"a": "u0000"}', False),
        (b'{"a": "plain"}', False),
    ],
)
def test_nul_is_found_raw_or_escaped_but_not_in_look_alikes(text, has_nul):
    assert scanning.json_has_nul(text) is has_nul
    if b"\x00" not in text:
        # Escaped: flagged exactly when json.loads would make a NUL of it.
        assert ("\x00" in json.loads(text)["a"]) is has_nul
