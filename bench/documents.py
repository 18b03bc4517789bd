"""Documents processed per second per core by documents.extraction and receipts.

    .venv/bin/python bench/documents.py [--pages 100] [--ocr-pages 3]
                                        [--receipts 6] [--rounds 5]

Generates a text PDF of PAGES A4 pages (about 2,000 characters each, made
by fpdf2), scanned pages at 150 dpi (an image of text and no text layer:
a sparse letter and a dense page) and three receipt photos, then times
ROUNDS rounds of: text PDF extracted (in the sandboxed parser process) and
chunked; scanned pages read by OCR at 150 dpi; receipts read by OCR and
parsed. OCR runs with one onnxruntime thread, as a prefork worker with one
process per core would. Prints medians of two rates: per wall-clock second
in this one process, and per CPU second (this process plus the reaped
sandbox children, from os.times), which is the per-core figure that other
load on a shared machine does not distort.
"""

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from fpdf import FPDF  # noqa: E402
from PIL import Image  # noqa: E402
from PIL import ImageDraw  # noqa: E402

from documents import receipts  # noqa: E402
from documents.chunking import chunk_pages  # noqa: E402
from documents.extraction import extract  # noqa: E402
from documents.extraction import warm_up  # noqa: E402
from documents.tests import samples  # noqa: E402

TARGETS = {"text PDF pages/s": 100, "OCR pages/s": 1, "receipts/s": 2}
WORDS = " ".join(
    [
        "the warehouse shipped pallets to customers in the northern region while",
        "revenue grew and the board approved a budget for new trucks and staff",
    ]
).split(" ")


def text_pdf(pages: int) -> bytes:
    """A PDF of `pages` pages of prose, about 2,000 characters each."""
    pdf = FPDF(format="A4")
    pdf.set_font("helvetica", size=10)
    for number in range(pages):
        words = [WORDS[(number * 7 + index) % len(WORDS)] for index in range(330)]
        pdf.add_page()
        pdf.multi_cell(0, 5, f"Page {number + 1}. " + " ".join(words) + ".")
    return bytes(pdf.output())


def scanned_pdf(lines: int) -> bytes:
    """One A4 page at 150 dpi holding only an image of `lines` lines of 11 pt text."""
    image = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(image)
    face = samples.font(23)
    for index in range(lines):
        words = [WORDS[(index * 5 + offset) % len(WORDS)] for offset in range(11)]
        draw.text((110, 120 + index * 38), " ".join(words), fill=15, font=face)
    pdf = FPDF(format="A4")
    pdf.add_page()
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    pdf.image(buffer, x=0, y=0, w=210)
    return bytes(pdf.output())


def _cpu_s() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def timed(function, count: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds taken by `count` calls."""
    started, cpu_started = time.perf_counter(), _cpu_s()
    for _ in range(count):
        function()
    return time.perf_counter() - started, _cpu_s() - cpu_started


def rates(count: int, seconds: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = seconds
    return count / wall, count / max(cpu, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100, help="text PDF pages")
    parser.add_argument("--ocr-pages", type=int, default=3, help="per round and kind")
    parser.add_argument("--receipts", type=int, default=6, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    document = text_pdf(args.pages)
    letter = scanned_pdf(lines=20)
    dense = scanned_pdf(lines=40)
    photos = [
        samples.receipt_image(samples.GROCERY),
        samples.receipt_image(samples.BAKERY, rotate=-3, noise=10),
        samples.receipt_image(samples.CAFE, mono=False),
    ]
    started = time.perf_counter()
    warm_up(threads=1)
    load_s = time.perf_counter() - started

    check = extract(document)
    chunks = chunk_pages(check.pages)
    letter_text = extract(letter).text
    dense_text = extract(dense).text
    reading = receipts.read_receipt(photos[0])

    print(
        f"cpu cores: {os.cpu_count()}; python {sys.version.split()[0]}; load {os.getloadavg()[0]:.2f}"
    )
    print(f"warm-up (OCR models): {load_s:.2f} s")
    print(
        f"text PDF: {args.pages} pages, {len(document) // 1024} KB, "
        f"{len(check.text)} chars, {len(chunks)} chunks of <= 1000 chars"
    )
    print(
        f"scanned letter page: {len(letter_text)} chars OCR'd; dense page: {len(dense_text)}"
    )
    fields = reading.fields
    print(
        f"receipt check: {fields.merchant} {fields.date} {fields.total} items={len(fields.items)}"
    )

    def text_round() -> tuple[float, float]:
        return rates(args.pages, timed(lambda: chunk_pages(extract(document).pages), 1))

    def ocr_round(pdf: bytes) -> tuple[float, float]:
        return rates(args.ocr_pages, timed(lambda: extract(pdf), args.ocr_pages))

    def receipt_round() -> tuple[float, float]:
        queue = iter(photos * args.receipts)
        seconds = timed(lambda: receipts.read_receipt(next(queue)), args.receipts)
        return rates(args.receipts, seconds)

    rows = [
        ("text PDF pages/s", text_round),
        ("OCR pages/s", lambda: ocr_round(letter)),
        ("OCR pages/s, dense", lambda: ocr_round(dense)),
        ("receipts/s", receipt_round),
    ]
    print()
    header = f"median of {args.rounds} rounds"
    print(
        f"{header:26}{'per wall s':>12}{'per CPU s':>12}{'CPU range':>14}{'target':>9}"
    )
    for name, measure in rows:
        measured = [measure() for _ in range(args.rounds)]
        wall = statistics.median(rate for rate, _ in measured)
        cpu_rates = [rate for _, rate in measured]
        target = TARGETS.get(name, TARGETS.get(name.split(",")[0]))
        spread = f"{min(cpu_rates):.1f}-{max(cpu_rates):.1f}"
        print(
            f"{name:26}{wall:12.1f}{statistics.median(cpu_rates):12.1f}"
            f"{spread:>14}{'>= ' + str(target):>9}"
        )


if __name__ == "__main__":
    main()
