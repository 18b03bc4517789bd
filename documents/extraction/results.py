"""What extraction takes (Limits) and gives back (Extraction of Pages)."""

import enum
from collections.abc import Callable
from dataclasses import dataclass

MIB = 1024 * 1024

# Called as on_progress(stage, done, total); stage is "text" or "ocr". An
# exception raised by the callback stops the extraction (e.g. a cancelled job).
ProgressCallback = Callable[[str, int, int], None]


class DocumentKind(enum.StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    TEXT = "text"
    MARKDOWN = "markdown"
    CSV = "csv"
    HTML = "html"
    JPEG = "jpeg"
    PNG = "png"

    @property
    def is_image(self) -> bool:
        return self in (DocumentKind.JPEG, DocumentKind.PNG)

    @property
    def is_plain_text(self) -> bool:
        return self in (DocumentKind.TEXT, DocumentKind.MARKDOWN, DocumentKind.CSV)


@dataclass(frozen=True)
class Limits:
    """Caps that keep one document from taking a worker's memory or time."""

    max_bytes: int = 50 * MIB
    max_pages: int = 2000
    max_ocr_pages: int = 100
    max_text_chars: int = 10_000_000
    max_image_pixels: int = 50_000_000
    # A page rendered for OCR is shrunk below this, whatever its paper size.
    max_render_pixels: int = 16_000_000
    ocr_dpi: int = 150
    # A PDF page with fewer visible characters than this (and something
    # drawn on it) is treated as scanned and read by OCR.
    ocr_min_chars: int = 16
    max_archive_members: int = 2000
    max_archive_bytes: int = 256 * MIB
    max_compression_ratio: float = 100.0
    # Memory the parser process may add on top of what it inherits.
    memory_bytes: int = 1024 * MIB
    time_limit_s: float = 600.0
    # Parse in a forked child with a memory cap; off only for debugging.
    isolate: bool = True


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Page:
    number: int
    text: str
    is_ocr: bool = False


@dataclass(frozen=True)
class Extraction:
    """A document's text, page by page (pages numbered from 1)."""

    kind: DocumentKind
    pages: tuple[Page, ...]
    title: str
    language: str | None
    encoding: str | None = None

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def ocr_page_count(self) -> int:
        return sum(1 for page in self.pages if page.is_ocr)

    @property
    def text(self) -> str:
        return "\n\n".join(page.text for page in self.pages if page.text)
