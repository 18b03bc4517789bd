"""Error signatures: an error's first line with ids, numbers, paths and URLs masked,
in Python and in SQL (the failure groups group by it in the database)."""

import re
from typing import Any

from django.db.models import CharField
from django.db.models import Func

# (PostgreSQL pattern, Python pattern, replacement), applied in order to the
# first line of an error. Each pattern has a single branch of plain ASCII
# classes, so PostgreSQL's and Python's engines mask the same text.
SIGNATURE_RULES: list[tuple[str, str, str]] = [
    (
        "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "<uuid>",
    ),
    (
        "[a-zA-Z][a-zA-Z0-9+.-]*://[^ '\"]+",
        "[a-zA-Z][a-zA-Z0-9+.-]*://[^ '\"]+",
        "<url>",
    ),
    (
        "[A-Za-z0-9_.~-]*(/[A-Za-z0-9_.~<>-]+)+/?",
        "[A-Za-z0-9_.~-]*(?:/[A-Za-z0-9_.~<>-]+)+/?",
        "<path>",
    ),
    ("0x[0-9a-fA-F]+", "0x[0-9a-fA-F]+", "<hex>"),
    ("[0-9a-fA-F]{16,}", "[0-9a-fA-F]{16,}", "<hex>"),
    ("[0-9]+", "[0-9]+", "<n>"),
]
SIGNATURE_MAX_CHARS = 300
_PY_RULES = [(re.compile(py), replacement) for _, py, replacement in SIGNATURE_RULES]
SQLITE_SIGNATURE_FUNCTION = "mq_error_signature"


def error_signature(message: str | None) -> str:
    """An error's signature: its first line with ids, numbers, paths and URLs masked."""
    text = (message or "").split("\n", 1)[0][:SIGNATURE_MAX_CHARS]
    for pattern, replacement in _PY_RULES:
        text = pattern.sub(replacement, text)
    return text


def error_type(signature: str) -> str:
    """The exception type a signature starts with ("OSError: ..."), or ""."""
    head, sep, _ = signature.partition(": ")
    return head if sep and re.fullmatch(r"[A-Za-z_][\w.]*", head) else ""


class ErrorSignature(Func):
    """error_signature() in SQL: nested regexp_replace on PostgreSQL, a Python function on SQLite."""

    output_field = CharField()

    def __init__(self, expression: Any, **extra: Any) -> None:
        super().__init__(expression, **extra)

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        sql = f"left(split_part({sql}, E'\\n', 1), {SIGNATURE_MAX_CHARS})"
        for pattern, _, replacement in SIGNATURE_RULES:
            sql = f"regexp_replace({sql}, %s, %s, 'g')"
            params = [*params, pattern, replacement]
        return sql, params

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"{SQLITE_SIGNATURE_FUNCTION}({sql})", params
