"""Text extraction on documents the tests generate; no database involved."""

import io
import os
import time
import zipfile

import pytest

from documents.extraction import ArchiveBomb
from documents.extraction import CorruptDocument
from documents.extraction import DocumentKind
from documents.extraction import EmptyDocument
from documents.extraction import EncryptedDocument
from documents.extraction import ExtractionTimeout
from documents.extraction import Limits
from documents.extraction import NoTextFound
from documents.extraction import ResourceLimitExceeded
from documents.extraction import TooLarge
from documents.extraction import TooManyPages
from documents.extraction import UnsupportedType
from documents.extraction import extract
from documents.extraction import guess_language
from documents.extraction import sniff
from documents.tests import samples

PAGE_TEXTS = [
    "Annual report 2024\nThe warehouse in Hamburg shipped 1200 pallets.",
    "Second page\nRevenue grew by 12 percent in the northern region.",
    "Third page\nThe board approved the budget for the next year.",
]
SCANNED_LINES = ["Invoice 2041", "Shipped to Berlin on 12 March"]


@pytest.fixture(scope="module")
def text_pdf():
    return samples.text_pdf(PAGE_TEXTS, title="Annual Report")


@pytest.fixture(scope="module")
def mixed_pdf(text_pdf):
    return samples.merge_pdfs(
        samples.text_pdf(PAGE_TEXTS[:1]), samples.scanned_pdf(SCANNED_LINES)
    )


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "kind"),
    [
        (b"%PDF-1.7\n...", "", DocumentKind.PDF),
        (b"\xff\xd8\xff\xe0rest", "", DocumentKind.JPEG),
        (b"\x89PNG\r\n\x1a\nrest", "", DocumentKind.PNG),
        (b"<!DOCTYPE html><html><body>x</body></html>", "", DocumentKind.HTML),
        (
            b"\xef\xbb\xbf  <html lang='en'><p>x</p></html>",
            "page.txt",
            DocumentKind.HTML,
        ),
        (b"<p>fragment</p>", "page.htm", DocumentKind.HTML),
        (b"plain words\non two lines", "notes.txt", DocumentKind.TEXT),
        (b"# Title\n\n## Section\n\ntext", "", DocumentKind.MARKDOWN),
        (b"just text", "readme.md", DocumentKind.MARKDOWN),
        (b"a,b,c\n1,2,3\n4,5,6\n", "", DocumentKind.CSV),
        (b"a;b\n1;2\n3;4\n", "", DocumentKind.CSV),
        (b"one value", "data.csv", DocumentKind.CSV),
        ("Grüße aus Köln".encode("latin-1"), "", DocumentKind.TEXT),
        ("hello".encode("utf-16"), "", DocumentKind.TEXT),
    ],
)
def test_sniff_judges_the_content(data, filename, kind):
    """The type comes from the bytes; the name only separates text flavours."""
    assert sniff(data, filename=filename) is kind


def test_sniff_recognises_docx_by_its_parts():
    """A ZIP with word/document.xml and content types is a DOCX whatever its name."""
    assert sniff(samples.docx_with_tables(), filename="scan.pdf") is DocumentKind.DOCX


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (os.urandom(4096).replace(b"%PDF", b"xxxx"), "binary, not text"),
        (b"\x00\x01\x02\x03" * 200, "binary, not text"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "an executable"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "legacy Office"),
        (b"GIF89a" + b"\x00\x01" * 50, "a GIF image"),
        (_zip({"a.txt": b"hello"}), "ZIP archive, not a Word"),
        (_zip({"[Content_Types].xml": b"x", "xl/workbook.xml": b"x"}), "spreadsheets"),
    ],
)
def test_sniff_refuses_unsupported_and_binary_content(data, message):
    """Binary files posing as text and other formats get a 415 with the reason."""
    with pytest.raises(UnsupportedType, match=message) as raised:
        sniff(data, filename="notes.txt")
    assert raised.value.http_status == 415


def test_empty_file_is_refused_with_400():
    """Zero bytes is an empty document, answered with 400."""
    with pytest.raises(EmptyDocument, match="the file is empty") as raised:
        extract(b"", filename="empty.txt")
    assert raised.value.http_status == 400


def test_text_pdf_gives_each_page_with_its_number(text_pdf):
    """Text comes page by page, exactly as written, with title and language."""
    calls = []
    extraction = extract(text_pdf, on_progress=lambda *args: calls.append(args))
    assert extraction.kind is DocumentKind.PDF
    assert [page.number for page in extraction.pages] == [1, 2, 3]
    assert [page.text for page in extraction.pages] == PAGE_TEXTS
    assert extraction.page_count == 3
    assert extraction.title == "Annual Report"
    assert extraction.language == "en"
    assert extraction.ocr_page_count == 0
    assert calls[-1] == ("text", 3, 3)


def test_text_pdf_from_a_path_without_title_uses_first_line(tmp_path):
    """A path works like bytes, and a PDF without a Title takes its first line."""
    path = tmp_path / "report.pdf"
    path.write_bytes(samples.text_pdf(PAGE_TEXTS[1:2]))
    extraction = extract(path)
    assert extraction.title == "Second page"
    assert extraction.pages[0].text == PAGE_TEXTS[1]


def test_scanned_page_is_read_by_ocr_next_to_a_text_page(mixed_pdf):
    """A page with only an image goes through OCR; the text page keeps its layer."""
    calls = []
    extraction = extract(mixed_pdf, on_progress=lambda *args: calls.append(args))
    assert [page.text for page in extraction.pages] == [
        PAGE_TEXTS[0],
        "\n".join(SCANNED_LINES),
    ]
    assert [page.is_ocr for page in extraction.pages] == [False, True]
    assert ("ocr", 1, 1) in calls


def test_png_image_is_read_by_ocr():
    """An image document is one OCR page."""
    image = samples.text_image(["Meeting notes", "Budget approved"], size=(700, 220))
    extraction = extract(samples.png(image), filename="notes.png")
    assert extraction.kind is DocumentKind.PNG
    assert extraction.pages[0].text == "Meeting notes\nBudget approved"
    assert extraction.pages[0].is_ocr is True


def test_image_over_the_pixel_limit_is_refused_before_decoding():
    """Pixel limits are checked from the header, so a huge image is never decoded."""
    image = samples.text_image(["x"], size=(800, 800))
    with pytest.raises(TooLarge, match="800x800 pixels"):
        extract(samples.png(image), limits=Limits(max_image_pixels=100_000))


def test_password_protected_pdf_is_refused(text_pdf):
    """A PDF that needs a password to open is refused with a clear reason."""
    with pytest.raises(EncryptedDocument, match="protected by a password"):
        extract(samples.encrypted_pdf(text_pdf))


def test_pdf_with_only_an_owner_password_is_read(text_pdf):
    """Permissions-only encryption does not hide the text, so it is extracted."""
    extraction = extract(samples.encrypted_pdf(text_pdf, password=""))
    assert extraction.pages[0].text == PAGE_TEXTS[0]


def test_truncated_pdf_is_refused_as_corrupt(text_pdf):
    """Half a PDF cannot be read and says so."""
    with pytest.raises(
        CorruptDocument, match="the PDF cannot be read: data format error"
    ):
        extract(text_pdf[: len(text_pdf) // 2])


def test_pdf_with_thousands_of_pages_is_refused_quickly():
    """Page count is checked before any page is read."""
    started = time.monotonic()
    with pytest.raises(TooManyPages, match="2500 pages; at most 2000"):
        extract(samples.blank_pdf(2500))
    assert time.monotonic() - started < 5


def test_compression_bomb_pdf_is_stopped_by_the_memory_cap():
    """A stream inflating to 128 MiB kills only the sandboxed parser, not the worker."""
    bomb = samples.compression_bomb_pdf(inflated_bytes=128 * 1024 * 1024)
    with pytest.raises(ResourceLimitExceeded, match="memory limit of 64 MiB"):
        extract(bomb, limits=Limits(memory_bytes=64 * 1024 * 1024))


def test_object_stream_bomb_pdf_is_stopped_by_the_memory_cap():
    """A file of some 130 KB whose object stream inflates to 128 MiB is refused."""
    bomb = samples.object_stream_bomb_pdf()
    assert len(bomb) < 200_000
    with pytest.raises(ResourceLimitExceeded, match="memory limit of 64 MiB"):
        extract(bomb, limits=Limits(memory_bytes=64 * 1024 * 1024))


def test_slow_document_hits_the_time_limit():
    """A document that takes longer than the time limit is stopped with a typed error."""
    with pytest.raises(ExtractionTimeout, match="longer than 0.01 s"):
        extract(samples.blank_pdf(1500), limits=Limits(time_limit_s=0.01))


def test_progress_callback_can_stop_the_extraction(text_pdf):
    """An exception from the callback (a cancelled job) ends the extraction."""

    class Cancelled(Exception):
        pass

    def cancel(stage, done, total):
        raise Cancelled

    with pytest.raises(Cancelled):
        extract(text_pdf, on_progress=cancel)


def test_blank_pdf_has_no_text():
    """Pages with nothing on them are not sent to OCR; the document has no text."""
    with pytest.raises(NoTextFound, match="no text was found in the PDF"):
        extract(samples.blank_pdf(2))


def test_docx_gives_headers_paragraphs_tables_and_pages():
    """Header first, body and table rows in order, page break honoured, footer last."""
    extraction = extract(samples.docx_with_tables(), filename="report.docx")
    assert extraction.kind is DocumentKind.DOCX
    assert extraction.title == "Quarterly Report"
    assert [page.text for page in extraction.pages] == [
        "ACME Corp - Internal\n\nQuarterly Report\n"
        "Revenue grew in the northern region.\n"
        "Region | Q1 | Q2\nNorth | 120 | 140\nSouth | 90 | 95",
        "Second page: outlook for the next year.\n\nConfidential footer",
    ]


def test_docx_zip_bomb_is_refused_before_parsing():
    """The declared uncompressed size is checked before python-docx opens the file."""
    with pytest.raises(ArchiveBomb, match="unpacks to 104857608 bytes") as raised:
        extract(
            samples.docx_bomb(uncompressed_bytes=100 * 1024 * 1024),
            limits=Limits(max_archive_bytes=64 * 1024 * 1024),
        )
    assert raised.value.http_status == 413


def test_docx_member_with_a_bomb_ratio_is_refused():
    """A member compressed more than the ratio limit is refused even under the size cap."""
    with pytest.raises(
        ArchiveBomb, match=r"word/document.xml in the DOCX is compressed \d+:1"
    ):
        extract(samples.docx_bomb(uncompressed_bytes=8 * 1024 * 1024))


def test_docx_with_too_many_members_is_refused():
    """Thousands of tiny members are refused by count."""
    members = {"[Content_Types].xml": b"x", "word/document.xml": b"x"}
    members.update({f"word/media/{index}.bin": b"" for index in range(60)})
    with pytest.raises(ArchiveBomb, match="holds 62 files; at most 50"):
        extract(_zip(members), limits=Limits(max_archive_members=50))


@pytest.mark.parametrize(
    ("encoding", "expected_encoding"),
    [("utf-8", "utf-8"), ("latin-1", "cp1252"), ("utf-16", "utf-16")],
)
def test_text_is_decoded_from_its_charset(encoding, expected_encoding):
    """UTF-8, Latin-1 and UTF-16 files all come back as the same text."""
    text = "Café crème brûlée für Müller\nÀ bientôt, señor Núñez."
    extraction = extract(text.encode(encoding), filename="menu.txt")
    assert extraction.pages[0].text == text
    assert extraction.encoding == expected_encoding


def test_form_feeds_split_a_text_file_into_pages():
    """Form feed is the page break of plain text."""
    extraction = extract(b"first page\fsecond page\n", filename="a.txt")
    assert [(page.number, page.text) for page in extraction.pages] == [
        (1, "first page"),
        (2, "second page"),
    ]


def test_csv_keeps_its_rows():
    """CSV is text, row per line."""
    extraction = extract(b"name,qty\napples,3\npears,5\n")
    assert extraction.kind is DocumentKind.CSV
    assert extraction.pages[0].text == "name,qty\napples,3\npears,5"


def test_whitespace_only_text_has_no_text():
    """A file of blanks is refused as having no text."""
    with pytest.raises(NoTextFound, match="no text was found in the TEXT file"):
        extract(b"   \n\t\n")


def test_file_over_the_byte_limit_is_refused():
    """The size cap applies before anything is parsed."""
    with pytest.raises(TooLarge, match="the file has 2000 bytes; at most 1000"):
        extract(b"a" * 2000, limits=Limits(max_bytes=1000))


def test_html_keeps_the_article_and_drops_boilerplate():
    """Navigation, cookie banners and footers are left out; the headline is the title."""
    article = "".join(
        f"<p>Paragraph {index}: the northern warehouse shipped more pallets than "
        f"ever before, and the team expects further growth next year.</p>"
        for index in range(1, 5)
    )
    html = f"""<!DOCTYPE html><html><head><title>Warehouse news</title></head><body>
    <nav><ul><li><a href="/">Home</a></li><li><a href="/about">About us</a></li></ul></nav>
    <div class="cookie-banner">We use cookies to improve your experience.</div>
    <article><h1>Record shipments</h1>{article}</article>
    <footer>Copyright 2025 Example Logistics. Imprint. Privacy policy.</footer>
    </body></html>"""
    extraction = extract(html.encode(), filename="news.html")
    text = extraction.pages[0].text
    assert extraction.kind is DocumentKind.HTML
    assert extraction.title == "Record shipments"
    assert "Paragraph 1: the northern warehouse shipped more pallets" in text
    assert "Paragraph 4:" in text
    assert "cookies" not in text
    assert "About us" not in text
    assert "Copyright" not in text


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (
            "Der Bericht ist fertig und die Zahlen sind nicht schlecht, das ist gut für uns.",
            "de",
        ),
        (
            "Le rapport est prêt et les chiffres sont bons pour la société et pour nous.",
            "fr",
        ),
        (
            "El informe está listo y los números son buenos para la empresa y para el equipo.",
            "es",
        ),
        (
            "The report is ready and the numbers are good for the company and for the team.",
            "en",
        ),
        ("Totals 12 34 56", None),
    ],
)
def test_guess_language_from_function_words(text, language):
    """Common words decide the language; too little text gives no guess."""
    assert guess_language(text) == language


def test_a_lone_short_line_on_a_page_is_still_read():
    """A page with one short line (under the OCR threshold) keeps its text: the
    detector misses a lone line on a mostly white page, so blank stretches are
    cut out first, and the text layer stays when OCR reads less."""
    extraction = extract(samples.text_pdf(["after the storm"]))
    assert extraction.pages[0].text == "after the storm"


def test_ink_bands_leave_out_blank_stretches():
    import numpy as np

    from documents.extraction.ocr import ink_bands

    page = np.full((1000, 400), 255, np.uint8)
    page[100:130, 50:350] = 0
    page[140:170, 50:350] = 0  # close below: the same band
    page[800:830, 50:350] = 0
    page[500, 10:12] = 0  # a speck
    assert ink_bands(page) == [(88, 182), (788, 842)]
    assert ink_bands(np.full((50, 50), 255, np.uint8)) == []
