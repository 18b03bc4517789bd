"""DOCX text with python-docx: headers, body paragraphs and tables in order, footers.

The archive is checked before python-docx opens it: member count, total
uncompressed size and compression ratio come from the ZIP central
directory, and zipfile never inflates a member past its declared size, so
the checks bound what parsing can allocate.
"""

import io
import zipfile
from typing import BinaryIO

import docx
from docx.document import Document
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree

from documents.extraction.errors import ArchiveBomb
from documents.extraction.errors import CorruptDocument
from documents.extraction.results import Limits

# Members this small cannot hurt whatever their ratio (blank XML compresses
# a thousandfold).
_RATIO_FLOOR_BYTES = 1024 * 1024
_PAGE_BREAK = "\f"
_T, _TAB, _BR, _CR = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
_RENDERED_BREAK = qn("w:lastRenderedPageBreak")
_TYPE = qn("w:type")


def check_archive(data: bytes | BinaryIO, limits: Limits) -> None:
    """Raise ArchiveBomb (or CorruptDocument) unless the ZIP is within the limits.

    Takes bytes or a seekable file: only the central directory is read.
    """
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        raise CorruptDocument(f"the DOCX file is damaged ({error})") from None
    if len(members) > limits.max_archive_members:
        raise ArchiveBomb(
            f"the DOCX holds {len(members)} files; "
            f"at most {limits.max_archive_members} are accepted"
        )
    total = sum(member.file_size for member in members)
    if total > limits.max_archive_bytes:
        raise ArchiveBomb(
            f"the DOCX unpacks to {total} bytes; "
            f"at most {limits.max_archive_bytes} are accepted"
        )
    for member in members:
        if member.file_size <= _RATIO_FLOOR_BYTES:
            continue
        ratio = member.file_size / max(member.compress_size, 1)
        if ratio > limits.max_compression_ratio:
            raise ArchiveBomb(
                f"{member.filename} in the DOCX is compressed {ratio:.0f}:1; "
                f"at most {limits.max_compression_ratio:g}:1 is accepted"
            )


def parse(data: bytes, limits: Limits) -> tuple[list[str], str]:
    """The text of each page (split at page breaks) and the document's title."""
    check_archive(data, limits)
    try:
        document = docx.Document(io.BytesIO(data))
        title = (document.core_properties.title or "").strip()
        body = _body_text(document)
        headers, footers = _header_footer_text(document)
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise CorruptDocument(f"the DOCX file cannot be read: {error}") from None
    except etree.LxmlError as error:
        raise CorruptDocument(f"the DOCX file has broken XML: {error}") from None
    pages = [page.strip() for page in body.split(_PAGE_BREAK)]
    if headers:
        pages[0] = f"{headers}\n\n{pages[0]}".strip()
    if footers:
        pages[-1] = f"{pages[-1]}\n\n{footers}".strip()
    return pages, title or _heading_title(document)


def _body_text(document: Document) -> str:
    # Word records where its own layout broke pages; when those marks exist
    # they give the pages a reader saw, hard breaks included.
    rendered = next(document.element.body.iter(_RENDERED_BREAK), None) is not None
    blocks = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            blocks.append(_paragraph_text(block, rendered_breaks=rendered))
        else:
            blocks.append(_table_text(block))
    return "\n".join(blocks)


def _paragraph_text(paragraph: Paragraph, *, rendered_breaks: bool = False) -> str:
    parts = []
    for element in paragraph._p.iter(_T, _TAB, _BR, _CR, _RENDERED_BREAK):
        if element.tag == _T:
            parts.append(element.text or "")
        elif element.tag == _TAB:
            parts.append("\t")
        elif element.tag == _RENDERED_BREAK:
            if rendered_breaks:
                parts.append(_PAGE_BREAK)
        elif element.get(_TYPE) == "page":
            if not rendered_breaks:
                parts.append(_PAGE_BREAK)
        else:
            parts.append("\n")
    return "".join(parts)


def _table_text(table: Table) -> str:
    rows = []
    for row in table.rows:
        cells = []
        seen = set()
        for cell in row.cells:
            # A merged cell is returned once per grid column it spans.
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            text = " ".join(
                _paragraph_text(p).replace(_PAGE_BREAK, " ").strip()
                for p in cell.paragraphs
            ).strip()
            nested = [_table_text(inner) for inner in cell.tables]
            cells.append(" ".join([text, *nested]).strip())
        rows.append(" | ".join(cells))
    return "\n".join(rows)


def _header_footer_text(document: Document) -> tuple[str, str]:
    headers: list[str] = []
    footers: list[str] = []
    for section in document.sections:
        for parts, found in (
            (
                (section.first_page_header, section.header, section.even_page_header),
                headers,
            ),
            (
                (section.first_page_footer, section.footer, section.even_page_footer),
                footers,
            ),
        ):
            for part in parts:
                if part.is_linked_to_previous:
                    continue
                text = "\n".join(
                    _paragraph_text(block).replace(_PAGE_BREAK, " ")
                    if isinstance(block, Paragraph)
                    else _table_text(block)
                    for block in part.iter_inner_content()
                ).strip()
                if text and text not in found:
                    found.append(text)
    return "\n".join(headers), "\n".join(footers)


def _heading_title(document: Document) -> str:
    for paragraph in document.paragraphs[:50]:
        style = paragraph.style.name if paragraph.style is not None else ""
        if style == "Title" or style.startswith("Heading"):
            text = paragraph.text.strip()
            if text:
                return text[:300]
    return ""
