"""Fast checks of raw request text: JSON nesting depth and NUL characters.

They run on the raw bytes before any parser, so a hostile body costs one pass
of compiled regular expressions, never a recursion or a database error.
"""

import re
from typing import Any

# A JSON string literal (escapes included), to skip strings when counting depth.
# Written as runs of plain characters between escapes: the engine takes a
# whole run at once instead of trying two branches per character, which
# makes a long string (a base64 image) about ten times cheaper to skip.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")
# \u0000 preceded by an odd number of backslashes is an escaped NUL; an even
# number is an escaped backslash followed by the plain text "u0000".
_ESCAPED_NUL = re.compile(rb"(\\+)u0000", re.IGNORECASE)


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (strings skipped)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_JSON_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def json_openers(raw: bytes) -> int:
    """How many [ and { the text holds, strings included: a bound on its depth."""
    return raw.count(b"[") + raw.count(b"{")


def json_has_nul(raw: bytes) -> bool:
    """Whether a JSON text holds a NUL character, raw or escaped as \\u0000."""
    if b"\x00" in raw:
        return True
    # JSON writes the escape with a lower-case u only (json.loads refuses
    # \U0000), so without the text "u0000" there is nothing to look at.
    if b"u0000" not in raw:
        return False
    return any(len(match.group(1)) % 2 == 1 for match in _ESCAPED_NUL.finditer(raw))


def text_has_nul(value: Any) -> bool:
    """Whether a string, or any string in a list/dict tree (keys included), holds NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(
            text_has_nul(key) or text_has_nul(item) for key, item in value.items()
        )
    if isinstance(value, list | tuple):
        return any(text_has_nul(item) for item in value)
    return False
