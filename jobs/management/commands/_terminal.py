"""Shared by the jobs_* commands: argument checks, plain-text tables, progress bars.

Not a command itself (the leading underscore keeps Django from listing it).
"""

import uuid
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.core.management.base import OutputWrapper
from tqdm import tqdm

from jobs import services


def job_id_or_error(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CommandError(f"malformed job id {value!r}: a job id is a UUID") from None


def queue_or_error(queue: str) -> str:
    try:
        services.queue_validate(queue=queue)
    except ValidationError as exc:
        raise CommandError("; ".join(exc.messages)) from None
    return queue


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Columns padded to their widest cell; numbers right-aligned."""
    rows = [["—" if cell is None else cell for cell in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [
            max(width, len(str(cell))) for width, cell in zip(widths, row, strict=True)
        ]

    def line(cells: Sequence[Any]) -> str:
        return "  ".join(
            str(cell).rjust(width)
            if isinstance(cell, int | float)
            else str(cell).ljust(width)
            for cell, width in zip(cells, widths, strict=True)
        ).rstrip()

    return "\n".join(
        [line(headers), line(["-" * width for width in widths])]
        + [line(row) for row in rows]
    )


class _ProgressStream:
    """Hands tqdm's partial lines to a command's stderr without a newline or colour."""

    def __init__(self, out: OutputWrapper):
        self._out = out

    def write(self, text: str) -> None:
        self._out.write(text, style_func=str, ending="")

    def flush(self) -> None:
        self._out.flush()

    def isatty(self) -> bool:
        return self._out.isatty()


def progress_bar(
    *, stream: OutputWrapper, total: int, desc: str, unit: str = "job"
) -> tqdm:
    """A tqdm bar on the command's stderr; silent when that is not a terminal (cron)."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=_ProgressStream(stream),
        disable=None,
        leave=True,
    )
