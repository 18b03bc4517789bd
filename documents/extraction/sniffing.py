"""The type of a document, judged by its content (the file name only breaks ties)."""

import io
import re
import zipfile
from pathlib import PurePath
from typing import BinaryIO

from documents.extraction.errors import CorruptDocument
from documents.extraction.errors import EmptyDocument
from documents.extraction.errors import UnsupportedType
from documents.extraction.results import DocumentKind

_PNG = b"\x89PNG\r\n\x1a\n"
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
# Formats people upload by mistake, named so the refusal is helpful.
_KNOWN_BINARIES = (
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "a legacy Office (OLE) file; save it as DOCX",
    ),
    (b"{\\rtf", "an RTF file; save it as DOCX or PDF"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "an executable"),
    (b"MZ", "an executable"),
    (b"SQLite format 3\x00", "a database file"),
)
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_HTML_START = re.compile(
    r"\A(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b",
    re.IGNORECASE | re.DOTALL,
)
_MARKDOWN = re.compile(r"^(?:#{1,6} \S|```|\* \S|- \S|\d+\. \S|> \S)", re.MULTILINE)
_TEXT_PROBE_BYTES = 64 * 1024


def sniff(data: bytes, *, filename: str = "") -> DocumentKind:
    """The DocumentKind of `data`; raises EmptyDocument, UnsupportedType or CorruptDocument."""
    if not data:
        raise EmptyDocument("the file is empty")
    head = data[:1024]
    if b"%PDF-" in head:
        return DocumentKind.PDF
    if head.startswith(b"\xff\xd8\xff"):
        return DocumentKind.JPEG
    if head.startswith(_PNG):
        return DocumentKind.PNG
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(data)
    if head[4:8] == b"ftyp" or (head.startswith(b"RIFF") and head[8:12] == b"WEBP"):
        raise UnsupportedType("the file is a photo or video format; upload JPEG or PNG")
    for signature, description in _KNOWN_BINARIES:
        if head.startswith(signature) and _is_binary(data[:_TEXT_PROBE_BYTES]):
            raise UnsupportedType(
                f"the file is {description}, not a supported document"
            )
    text = _probe_text(data)
    if text is None:
        raise UnsupportedType("the file is binary, not text or a supported document")
    return _sniff_text(text, filename)


def sniff_file(file: BinaryIO, *, filename: str = "") -> DocumentKind:
    """As sniff(), reading only the start of a seekable file (and a ZIP's directory).

    For web requests: a 50 MB upload is judged without reading it into
    memory. The file is left at position 0.
    """
    file.seek(0)
    head = file.read(_TEXT_PROBE_BYTES)
    try:
        if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            file.seek(0)
            return _sniff_zip(file)
        return sniff(head, filename=filename)
    finally:
        file.seek(0)


def text_encoding_from_bom(data: bytes) -> str | None:
    """The encoding a byte-order mark announces, if any."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def _sniff_zip(data: bytes | BinaryIO) -> DocumentKind:
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        with zipfile.ZipFile(source) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        raise CorruptDocument(f"the ZIP/DOCX file is damaged ({error})") from None
    if "word/document.xml" in names and "[Content_Types].xml" in names:
        return DocumentKind.DOCX
    if "xl/workbook.xml" in names or "ppt/presentation.xml" in names:
        raise UnsupportedType("spreadsheets and presentations are not supported")
    raise UnsupportedType("the file is a ZIP archive, not a Word (DOCX) document")


def _is_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    # Text has almost no control characters besides tab, newlines, form feed
    # and escape; a few stray ones are tolerated as damage.
    return len(_CONTROL.findall(sample)) > max(2, len(sample) // 200)


def _probe_text(data: bytes) -> str | None:
    """The decoded start of `data` if it is text, else None."""
    encoding = text_encoding_from_bom(data)
    sample = data[:_TEXT_PROBE_BYTES]
    if encoding is not None:
        return sample.decode(encoding, errors="ignore")
    if _is_binary(sample):
        return None
    try:
        return sample.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start >= len(sample) - 4:  # a character cut by the probe's end
            return sample[: error.start].decode("utf-8")
    return sample.decode("latin-1")


def _sniff_text(text: str, filename: str) -> DocumentKind:
    suffix = PurePath(filename).suffix.lower()
    stripped = text.lstrip("\ufeff \t\r\n")
    if _HTML_START.match(stripped) or (
        suffix in (".html", ".htm", ".xhtml") and stripped.startswith("<")
    ):
        return DocumentKind.HTML
    if suffix in (".csv", ".tsv") or _looks_like_csv(stripped):
        return DocumentKind.CSV
    if suffix in (".md", ".markdown") or len(_MARKDOWN.findall(stripped[:4096])) >= 2:
        return DocumentKind.MARKDOWN
    return DocumentKind.TEXT


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text[:4096].splitlines()[:6] if line.strip()]
    if len(lines) < 3:
        return False
    for delimiter in (",", ";", "\t"):
        counts = {line.count(delimiter) for line in lines[:-1]}
        if len(counts) == 1 and counts.pop() >= 1:
            return True
    return False
