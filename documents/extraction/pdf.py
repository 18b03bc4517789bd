"""PDF text with pypdfium2, page by page; pages without a text layer are rendered for OCR.

Runs inside the sandbox child: it emits one "page" message per page, then
one "render" message (a grayscale bitmap as payload) per page that needs
OCR, which the parent reads while the child renders the next one.
"""

import math
import re

import pypdfium2 as pdfium

from documents.extraction.errors import CorruptDocument
from documents.extraction.errors import EncryptedDocument
from documents.extraction.errors import TooLarge
from documents.extraction.errors import TooManyPages
from documents.extraction.results import Limits
from documents.extraction.sandbox import Deadline
from documents.extraction.sandbox import Emit

POINTS_PER_INCH = 72
_CONTROL = re.compile(r"[\x00-\x01\x03-\x08\x0b\x0e-\x1f\ufffe\uffff]")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")
_GENERATOR_TITLE = re.compile(r"^(?:Microsoft (?:Word|PowerPoint) - |untitled\b)", re.I)


def parse(data: bytes, limits: Limits, deadline: Deadline, emit: Emit) -> None:
    """Emit the metadata, each page's text, then renders of the pages that need OCR."""
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise EncryptedDocument(
                "the PDF is protected by a password; upload an unprotected copy"
            ) from None
        raise CorruptDocument(f"the PDF cannot be read: {_reason(error)}") from None
    try:
        _parse_document(document, limits, deadline, emit)
    finally:
        document.close()


def _parse_document(
    document: pdfium.PdfDocument, limits: Limits, deadline: Deadline, emit: Emit
) -> None:
    page_count = len(document)
    if page_count == 0:
        raise CorruptDocument("the PDF has no pages")
    if page_count > limits.max_pages:
        raise TooManyPages(
            f"the PDF has {page_count} pages; at most {limits.max_pages} are accepted"
        )
    title = (document.get_metadata_value("Title") or "").strip()
    emit({"type": "meta", "page_count": page_count, "title": _clean_title(title)}, b"")
    scanned = []
    total_chars = 0
    for index in range(page_count):
        deadline.remaining()
        text, needs_ocr = _page_text(document, index, limits)
        total_chars += len(text)
        if total_chars > limits.max_text_chars:
            raise TooLarge(
                f"the PDF has more than {limits.max_text_chars} characters of text"
            )
        if needs_ocr:
            scanned.append(index)
        emit({"type": "page", "number": index + 1, "text": text}, b"")
    if len(scanned) > limits.max_ocr_pages:
        raise TooManyPages(
            f"{len(scanned)} pages have no text layer and need OCR; "
            f"at most {limits.max_ocr_pages} are read per document"
        )
    emit({"type": "ocr_pages", "count": len(scanned)}, b"")
    for index in scanned:
        deadline.remaining()
        width, height, pixels = _render(document, index, limits)
        emit(
            {"type": "render", "number": index + 1, "width": width, "height": height},
            pixels,
        )


def _page_text(
    document: pdfium.PdfDocument, index: int, limits: Limits
) -> tuple[str, bool]:
    try:
        page = document[index]
    except pdfium.PdfiumError as error:
        raise CorruptDocument(
            f"page {index + 1} of the PDF cannot be read: {_reason(error)}"
        ) from None
    try:
        textpage = page.get_textpage()
        try:
            text = normalize_text(textpage.get_text_range())
        finally:
            textpage.close()
        needs_ocr = False
        if sum(not char.isspace() for char in text) < limits.ocr_min_chars:
            # Only pages that draw something are worth a render: a blank
            # page stays blank.
            needs_ocr = next(iter(page.get_objects(max_depth=1)), None) is not None
        return text, needs_ocr
    finally:
        page.close()


def _render(
    document: pdfium.PdfDocument, index: int, limits: Limits
) -> tuple[int, int, bytes]:
    page = document[index]
    try:
        width_pt, height_pt = page.get_size()
        scale = limits.ocr_dpi / POINTS_PER_INCH
        pixels = width_pt * height_pt * scale * scale
        if pixels > limits.max_render_pixels:
            scale *= math.sqrt(limits.max_render_pixels / pixels)
        bitmap = page.render(scale=scale, grayscale=True, may_draw_forms=True)
        try:
            array = bitmap.to_numpy()
            height, width = array.shape[:2]
            return width, height, array.reshape(height, width).tobytes()
        finally:
            bitmap.close()
    finally:
        page.close()


def normalize_text(text: str) -> str:
    """pdfium's text with Unix newlines, its hyphen marks visible and no stray controls."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # pdfium reports a hyphen it judged a line-end hyphenation as U+0002.
    text = _CONTROL.sub("", text.replace("\x02", "-"))
    text = _TRAILING_SPACE.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


def _clean_title(title: str) -> str:
    if _GENERATOR_TITLE.match(title):
        title = _GENERATOR_TITLE.sub("", title).strip()
    return title[:300]


def _reason(error: Exception) -> str:
    match = re.search(r"\(PDFium: ([^)]*)\)", str(error))
    return match.group(1).lower() if match else str(error)
