"""extract(): sniff a document, parse it (sandboxed), OCR what has no text layer."""

import os
import time
from pathlib import Path

import numpy as np

from documents.extraction import ocr
from documents.extraction import plain_text
from documents.extraction.errors import EmptyDocument
from documents.extraction.errors import NoTextFound
from documents.extraction.errors import TooLarge
from documents.extraction.language import guess_language
from documents.extraction.results import DEFAULT_LIMITS
from documents.extraction.results import DocumentKind
from documents.extraction.results import Extraction
from documents.extraction.results import Limits
from documents.extraction.results import Page
from documents.extraction.results import ProgressCallback
from documents.extraction.sandbox import Deadline
from documents.extraction.sandbox import Emit
from documents.extraction.sandbox import run
from documents.extraction.sniffing import sniff

PROGRESS_INTERVAL_S = 0.5
TITLE_MAX_CHARS = 200


def extract(
    source: bytes | str | os.PathLike,
    *,
    filename: str = "",
    limits: Limits = DEFAULT_LIMITS,
    on_progress: ProgressCallback | None = None,
) -> Extraction:
    """The text of a document (bytes or a path), page by page; raises ExtractionError."""
    data = _read(source, limits)
    if isinstance(source, (str, os.PathLike)) and not filename:
        filename = Path(source).name
    kind = sniff(data, filename=filename)
    progress = _Progress(on_progress)
    deadline = Deadline(limits.time_limit_s)
    encoding = None
    title = ""
    if kind is DocumentKind.PDF:
        pages, title = _extract_pdf(data, limits, deadline, progress)
    elif kind.is_image:
        pages = [_ocr_image(data, limits, progress)]
    elif kind.is_plain_text:
        texts, encoding = plain_text.parse(data)
        pages = [Page(number, text) for number, text in enumerate(texts, 1)]
        progress("text", 1, 1, force=True)
    else:
        texts, title = _in_sandbox(kind, data, limits, deadline)
        pages = [Page(number, text) for number, text in enumerate(texts, 1)]
        progress("text", 1, 1, force=True)
    if sum(len(page.text) for page in pages) > limits.max_text_chars:
        raise TooLarge(f"the document has more than {limits.max_text_chars} characters")
    if not any(page.text.strip() for page in pages):
        raise NoTextFound(f"no text was found in the {kind.value.upper()} file")
    text = "\n".join(page.text for page in pages)
    return Extraction(
        kind=kind,
        pages=tuple(pages),
        title=title or _first_line(text),
        language=guess_language(text),
        encoding=encoding,
    )


def _read(source: bytes | str | os.PathLike, limits: Limits) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = Path(source)
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise TooLarge(_size_message(size, limits))
        data = path.read_bytes()
    if len(data) > limits.max_bytes:
        raise TooLarge(_size_message(len(data), limits))
    if not data:
        raise EmptyDocument("the file is empty")
    return data


def _size_message(size: int, limits: Limits) -> str:
    return f"the file has {size} bytes; at most {limits.max_bytes} are accepted"


class _Progress:
    """Passes progress on at most every PROGRESS_INTERVAL_S, and always at the end."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.last = 0.0

    def __call__(
        self, stage: str, done: int, total: int, *, force: bool = False
    ) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        if force or done >= total or now - self.last >= PROGRESS_INTERVAL_S:
            self.last = now
            self.callback(stage, done, total)


def _extract_pdf(
    data: bytes, limits: Limits, deadline: Deadline, progress: _Progress
) -> tuple[list[Page], str]:
    from documents.extraction import pdf

    state = {"page_count": 0, "title": "", "ocr_total": 0, "ocr_done": 0}
    pages: dict[int, Page] = {}

    def on_message(message: dict, payload: bytes) -> None:
        kind = message["type"]
        if kind == "meta":
            state["page_count"] = message["page_count"]
            state["title"] = message["title"]
        elif kind == "page":
            pages[message["number"]] = Page(message["number"], message["text"])
            progress("text", message["number"], state["page_count"])
        elif kind == "ocr_pages":
            state["ocr_total"] = message["count"]
        elif kind == "render":
            deadline.remaining()
            shape = (message["height"], message["width"])
            image = np.frombuffer(payload, np.uint8).reshape(shape)
            lines = ocr.recognize_page(image)
            text = ocr.rows_text(ocr.group_rows(lines))
            layer = pages.get(message["number"])
            # A page with a few characters of text layer is read by OCR
            # too; the OCR text replaces the layer only when it has more.
            if layer is None or len(text.strip()) >= len(layer.text.strip()):
                pages[message["number"]] = Page(message["number"], text, is_ocr=True)
            state["ocr_done"] += 1
            progress("ocr", state["ocr_done"], state["ocr_total"], force=True)

    def task(emit: Emit) -> None:
        pdf.parse(data, limits, deadline, emit)

    run(
        task,
        on_message=on_message,
        memory_bytes=limits.memory_bytes,
        deadline=deadline,
        isolate=limits.isolate,
    )
    return [pages[number] for number in sorted(pages)], state["title"]


def _ocr_image(data: bytes, limits: Limits, progress: _Progress) -> Page:
    image = ocr.load_image(data, max_pixels=limits.max_image_pixels)
    lines = ocr.recognize(image)
    progress("ocr", 1, 1, force=True)
    return Page(1, ocr.rows_text(ocr.group_rows(lines)), is_ocr=True)


def _in_sandbox(
    kind: DocumentKind, data: bytes, limits: Limits, deadline: Deadline
) -> tuple[list[str], str]:
    if kind is DocumentKind.DOCX:
        from documents.extraction import docx_text as parser
    else:
        from documents.extraction import html_text as parser
    result: dict = {}

    def task(emit: Emit) -> None:
        if kind is DocumentKind.DOCX:
            pages, title = parser.parse(data, limits)
        else:
            text, title = parser.parse(data)
            pages = [text]
        emit({"type": "result", "pages": pages, "title": title}, b"")

    def on_message(message: dict, payload: bytes) -> None:
        result.update(message)

    run(
        task,
        on_message=on_message,
        memory_bytes=limits.memory_bytes,
        deadline=deadline,
        isolate=limits.isolate,
    )
    return result["pages"], result["title"]


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:TITLE_MAX_CHARS]
    return ""
