"""Pages split into overlapping chunks for search, with page numbers and offsets.

A chunk never spans two pages, so it has one page number, and
`page.text[start:end] == chunk.text` always holds. Chunks end at a
paragraph, sentence or word boundary when one falls in the last part of
the window; only a single word longer than `size` is cut.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

DEFAULT_SIZE = 1000
DEFAULT_OVERLAP = 150
# A break is looked for only in the last part of a window, so chunks stay
# close to `size` instead of ending at the first full stop.
_BREAK_SEARCH_FRACTION = 0.5
_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*\s")
_SPACE = re.compile(r"\s")
_NON_SPACE = re.compile(r"\S")


class PageLike(Protocol):
    number: int
    text: str


@dataclass(frozen=True)
class Chunk:
    order: int
    text: str
    page_number: int
    start: int
    end: int


def chunk_pages(
    pages: Iterable[PageLike],
    *,
    size: int = DEFAULT_SIZE,
    overlap: int = DEFAULT_OVERLAP,
) -> list[Chunk]:
    """Chunks of at most `size` characters, each sharing about `overlap` with the last."""
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError("need size > 0 and 0 <= overlap < size")
    chunks: list[Chunk] = []
    for page in pages:
        for start, end in _spans(page.text, size, overlap):
            chunks.append(
                Chunk(
                    order=len(chunks),
                    text=page.text[start:end],
                    page_number=page.number,
                    start=start,
                    end=end,
                )
            )
    return chunks


def _spans(text: str, size: int, overlap: int) -> Iterable[tuple[int, int]]:
    start = _next_word(text, 0)
    length = _content_end(text)
    while start is not None and start < length:
        end = min(start + size, length)
        if end < length:
            end = _break_before(text, start, end)
        end = _content_end(text, end)
        yield start, end
        if end >= length:
            return
        start = _overlap_start(text, start, end, overlap)


def _break_before(text: str, start: int, limit: int) -> int:
    """The best place to end a chunk that may run to `limit` (exclusive)."""
    floor = start + int((limit - start) * _BREAK_SEARCH_FRACTION)
    paragraph = text.rfind("\n\n", floor, limit)
    if paragraph > floor:
        return paragraph
    sentence_end = None
    for match in _SENTENCE_END.finditer(text, floor, limit + 1):
        sentence_end = match.end() - 1
    if sentence_end is not None:
        return sentence_end
    if text[limit].isspace():
        return limit
    space = _last_space(text, start + 1, limit)
    return space if space is not None else limit


def _last_space(text: str, low: int, high: int) -> int | None:
    for index in range(high - 1, low - 1, -1):
        if text[index].isspace():
            return index
    return None


def _overlap_start(text: str, start: int, end: int, overlap: int) -> int:
    """Where the next chunk starts: a word start about `overlap` before `end`."""
    if overlap:
        candidate = max(end - overlap, start + 1)
        if not text[candidate - 1].isspace():
            space = _SPACE.search(text, candidate, end)
            candidate = space.start() if space else end
        word = _next_word(text, candidate)
        if word is not None and word < end:
            return word
    word = _next_word(text, end)
    return word if word is not None else len(text)


def _next_word(text: str, position: int) -> int | None:
    match = _NON_SPACE.search(text, position)
    return match.start() if match else None


def _content_end(text: str, end: int | None = None) -> int:
    """`end` moved back over trailing whitespace."""
    end = len(text) if end is None else end
    while end > 0 and text[end - 1].isspace():
        end -= 1
    return end
