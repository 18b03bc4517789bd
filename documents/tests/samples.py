"""Documents and receipt images the tests generate (small, deterministic)."""

import io
import zipfile
from pathlib import Path

import numpy as np
from docx import Document
from fpdf import FPDF
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFilter
from PIL import ImageFont
from pypdf import PdfReader
from pypdf import PdfWriter

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/truetype/liberation"),
)


def font(
    size: int, *, mono: bool = False
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A TrueType font from the machine if there is one, else Pillow's own."""
    names = (
        ("DejaVuSansMono.ttf", "LiberationMono-Regular.ttf")
        if mono
        else (
            "DejaVuSans.ttf",
            "LiberationSans-Regular.ttf",
        )
    )
    for directory in FONT_DIRS:
        for name in names:
            if (directory / name).exists():
                return ImageFont.truetype(str(directory / name), size)
    return ImageFont.load_default(size=size)


def text_pdf(pages: list[str], *, title: str = "") -> bytes:
    """A PDF with a real text layer, one string per page."""
    pdf = FPDF(format="A4")
    if title:
        pdf.set_title(title)
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def text_image(
    lines: list[str], *, size: tuple[int, int] = (1240, 600), font_size: int = 30
):
    """A white image with dark text lines, as a scanner would see a page."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text(
            (80, 60 + index * int(font_size * 1.8)), line, fill=20, font=font(font_size)
        )
    return image


def scanned_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose only content is an image of text (no text layer)."""
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.image(text_image(lines), x=0, y=0, w=210)
    return bytes(pdf.output())


def encrypted_pdf(data: bytes, *, password: str = "secret") -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=password, owner_password="owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_with_tables() -> bytes:
    """A DOCX with a header, footer, heading, paragraphs, a table and a page break."""
    document = Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = "ACME Corp - Internal"
    section.footer.paragraphs[0].text = "Confidential footer"
    document.add_heading("Quarterly Report", level=1)
    document.add_paragraph("Revenue grew in the northern region.")
    table = document.add_table(rows=3, cols=3)
    for row, values in zip(
        table.rows,
        [("Region", "Q1", "Q2"), ("North", "120", "140"), ("South", "90", "95")],
        strict=True,
    ):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_page_break()
    document.add_paragraph("Second page: outlook for the next year.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_bomb(*, uncompressed_bytes: int = 300 * 1024 * 1024) -> bytes:
    """A DOCX-shaped ZIP whose document.xml inflates to hundreds of megabytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b" " * (1 << 20)
            for _ in range(uncompressed_bytes >> 20):
                member.write(block)
    return out.getvalue()


def receipt_image(
    lines: list[str],
    *,
    width: int = 560,
    font_size: int = 26,
    mono: bool = True,
    rotate: float = 0.0,
    noise: float = 0.0,
    seed: int = 5,
) -> bytes:
    """A receipt as a JPEG: left text and right-aligned prices split on "|"."""
    line_height = int(font_size * 1.6)
    image = Image.new("L", (width, 60 + line_height * len(lines)), 250)
    draw = ImageDraw.Draw(image)
    face = font(font_size, mono=mono)
    for index, line in enumerate(lines):
        left, _, right = line.partition("|")
        y = 30 + index * line_height
        if left.startswith("^"):
            left = left[1:]
            x = (width - draw.textlength(left, font=face)) / 2
        else:
            x = 30
        draw.text((x, y), left, fill=25, font=face)
        if right:
            draw.text(
                (width - 30 - draw.textlength(right, font=face), y),
                right,
                fill=25,
                font=face,
            )
    if rotate:
        image = image.rotate(rotate, expand=True, fillcolor=250, resample=Image.BICUBIC)
    if noise:
        rng = np.random.default_rng(seed)
        pixels = np.asarray(image, dtype=np.float32) + rng.normal(
            0, noise, image.size[::-1]
        )
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        image = image.filter(ImageFilter.GaussianBlur(0.6))
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=88)
    return out.getvalue()


GROCERY = [
    "^CORNER GROCERY",
    "^12 Market Street",
    "^Tel 555-0100",
    "Date: 14/03/2025 10:42",
    "Milk 1L|1.29",
    "2 x Bread|4.98",
    "Apples 1kg|3.49",
    "SUBTOTAL|9.76",
    "TAX|0.78",
    "TOTAL|10.54",
    "CASH|20.00",
    "CHANGE|9.46",
]

BAKERY = [
    "^BACKSTUBE MEYER",
    "^Hauptstr. 5, 10115 Berlin",
    "12.01.2025 08:15",
    "Croissant|2,40 A",
    "Brezel|0,90 A",
    "  2 x 0,45",
    "Kaffee gross|2,80 B",
    "SUMME EUR|6,10",
    "Gegeben Bar|10,00",
    "Rueckgeld|3,90",
]

CAFE = [
    "^Blue Bottle Cafe",
    "^Jan 12, 2025 9:03 AM",
    "Latte QTY 2|$9.00",
    "Croissant|$3.75",
    "AMOUNT DUE|$12.75",
    "VISA|$12.75",
]


def compression_bomb_pdf(*, inflated_bytes: int = 256 * 1024 * 1024) -> bytes:
    """A one-page PDF whose small content stream inflates to `inflated_bytes` of drawing."""
    import zlib

    compressor = zlib.compressobj(9)
    block = b"0 0 m\n" * (1 << 16)
    parts = [compressor.compress(block) for _ in range(inflated_bytes // len(block))]
    stream = b"".join(parts) + compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
        + stream
        + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.5\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def blank_pdf(pages: int) -> bytes:
    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
    return bytes(pdf.output())


def merge_pdfs(*documents: bytes) -> bytes:
    writer = PdfWriter()
    for data in documents:
        writer.append(PdfReader(io.BytesIO(data)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def object_stream_bomb_pdf(*, inflated_bytes: int = 128 * 1024 * 1024) -> bytes:
    """A PDF whose object stream inflates to a huge array; its broken xref makes
    pdfium scan (and inflate) the object stream while opening the file."""
    import zlib

    compressor = zlib.compressobj(9)
    block = b"0 " * (1 << 16)
    parts = [compressor.compress(b"6 0 [")]
    parts += [compressor.compress(block) for _ in range(inflated_bytes // len(block))]
    stream = b"".join(parts) + compressor.compress(b"]") + compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Extra 6 0 R >> >>",
        b"<< /Length 0 >>\nstream\n\nendstream",
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n"
        % len(stream)
        + stream
        + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.5\n")
    for number, body in enumerate(objects, 1):
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    out += b"trailer\n<< /Size 7 /Root 1 0 R >>\nstartxref\n999999\n%%EOF\n"
    return bytes(out)
