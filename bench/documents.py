"""Documents: pages per second per core, search latency, upload answer time.

    .venv/bin/python bench/documents.py [--pages 100] [--ocr-pages 3]
        [--receipts 6] [--rounds 5] [--chunks 100000] [--queries 200]
        [--uploads 30] [--skip-extraction] [--skip-search] [--skip-upload]

Extraction (no database): generates a text PDF of PAGES A4 pages (about
2,000 characters each, made by fpdf2), scanned pages at 150 dpi (an image
of text and no text layer: a sparse letter and a dense page) and three
receipt photos, then times ROUNDS rounds of: text PDF extracted (in the
sandboxed parser process) and chunked; scanned pages read by OCR at 150
dpi; receipts read by OCR and parsed. OCR runs with one onnxruntime
thread, as a prefork worker with one process per core would. Prints
medians of two rates: per wall-clock second in this one process, and per
CPU second (this process plus the reaped sandbox children, from os.times),
which is the per-core figure that other load on a shared machine does not
distort.

Search: CHUNKS chunks of about 1,000 characters (150 words drawn from a
30,000-word vocabulary with a Zipf law, like prose) in one collection of
100 documents, indexed by the database's own triggers, in PostgreSQL
(`mediaqueue_bench_documents` on 127.0.0.1, or BENCH_DATABASE_URL; created,
migrated and filled once, then reused) and in a SQLite file under /tmp
(FTS5, the embedded default). QUERIES distinct queries through
`documents.selectors.chunk_search` as the collection's owner would send
them (40% one word, 40% two words, 20% a two-word phrase taken from a
chunk; words of rank 30 to 3,000), first 20 unmeasured, 20 results with
snippets each. Prints p50 and p95 per database. Each database runs in a
child process of its own (Django settings are per process).

Upload: POST /api/v1/documents/agent/{id}/upload of a 10 MB PDF (one
page holding a noise image, different bytes each time) to gunicorn (2
sync workers) on a free port, UPLOADS times one after the other; the
answer comes once the file is stored and its job row written (the
Celery message goes to Redis; no worker runs). Prints p50 and p95 of the
time to the whole answer. PostgreSQL as above; Redis REDIS_URL (default
database 13 of 127.0.0.1:6379, emptied at the end); media in a temporary
directory.

Figures (2026-11, this 2-core machine shared with other engineers' test
runs, load 2-5), medians:

    text PDF pages/s          833 per CPU s (401 wall)    target 100
    OCR pages/s, letter       0.4 per CPU s (0.2 wall)    target 1   missed
    OCR pages/s, dense        0.2 per CPU s               target 1   missed
    receipts/s                2.4 per CPU s (1.7 wall)    target 2
    search p50, PostgreSQL    11.1 ms (p95 92.5)          target 20
    search p50, SQLite        8.3 ms (p95 110.9)
    upload p50, 10 MB PDF     51.8 ms (p95 59.1)          target 50
      of which body only      36.8 ms (received and parsed, refused with 404)

OCR: recognition is about 85% of a page's time and costs in proportion to
the characters read (each line is scaled to the model's 48-pixel height,
so neither the dpi nor the batch size changes it: batches of 16 and 48
were no faster than 6). Cutting blank stretches out before detection
saved about 4% on the letter and lets a lone line be found; two
onnxruntime threads make a page faster by the wall clock on an idle
machine, never cheaper per core. A smaller or int8-quantized recognition
model would be the next step; quantizing needs the `onnx` package, which
is not installed.
"""

import argparse
import http.client
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from fpdf import FPDF  # noqa: E402
from PIL import Image  # noqa: E402
from PIL import ImageDraw  # noqa: E402

from documents import receipts  # noqa: E402
from documents.chunking import chunk_pages  # noqa: E402
from documents.extraction import extract  # noqa: E402
from documents.extraction import ocr  # noqa: E402
from documents.extraction import warm_up  # noqa: E402
from documents.tests import samples  # noqa: E402

TARGETS = {"text PDF pages/s": 100, "OCR pages/s": 1, "receipts/s": 2}
SEARCH_TARGET_MS = 20
UPLOAD_TARGET_MS = 50
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/mediaqueue_bench_documents"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
BENCH_USERNAME = "bench-documents"
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


def extraction_bench(args: argparse.Namespace) -> None:
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

    def two_threads(measure):
        # One page read with two onnxruntime threads: faster by the wall
        # clock, never per CPU second (the figure the target is about).
        ocr.set_threads(2)
        try:
            return measure()
        finally:
            ocr.set_threads(1)

    rows = [
        ("text PDF pages/s", text_round),
        ("OCR pages/s", lambda: ocr_round(letter)),
        ("OCR pages/s, dense", lambda: ocr_round(dense)),
        ("OCR pages/s, 2 threads", lambda: two_threads(lambda: ocr_round(letter))),
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


# SEARCH -------------------------------------------------------------------

VOCABULARY_SIZE = 30_000
WORDS_PER_CHUNK = 150
DOCUMENTS = 100
SYLLABLES = [
    consonant + vowel
    for consonant in "bcdfghjklmnprstvwz"
    for vowel in ("a", "e", "i", "o", "u", "ai", "ou")
]


def vocabulary() -> list[str]:
    """Real words first (the most frequent), then made-up words of 2-4 syllables."""
    words = list(dict.fromkeys(WORDS))
    number = 0
    while len(words) < VOCABULARY_SIZE:
        parts, value = [], number
        for _ in range(2 + number % 3):
            parts.append(SYLLABLES[value % len(SYLLABLES)])
            value //= len(SYLLABLES)
        candidate = "".join(parts)
        if candidate not in words:
            words.append(candidate)
        number += 1
    return words


def chunk_texts(count: int, words: list[str], seed: int = 7):
    import numpy as np

    rng = np.random.default_rng(seed)
    weights = 1 / np.arange(1, len(words) + 1) ** 1.05
    weights /= weights.sum()
    vocab = np.array(words, dtype=object)
    for start in range(0, count, 5000):
        size = min(5000, count - start)
        picks = rng.choice(len(words), size=(size, WORDS_PER_CHUNK), p=weights)
        for row in vocab[picks]:
            yield " ".join(row) + "."


def search_queries(count: int, words: list[str], texts: list[str], seed: int = 3):
    import random

    rng = random.Random(seed)
    queries = []
    for index in range(count):
        kind = index % 5
        if kind < 2:
            queries.append(words[rng.randrange(30, 3000)])
        elif kind < 4:
            queries.append(
                f"{words[rng.randrange(30, 3000)]} {words[rng.randrange(30, 3000)]}"
            )
        else:
            tokens = rng.choice(texts).rstrip(".").split()
            at = rng.randrange(len(tokens) - 1)
            queries.append(f'"{tokens[at]} {tokens[at + 1]}"')
    return queries


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _bench_collection():
    from django.contrib.auth import get_user_model

    from documents.models import Collection

    owner, _ = get_user_model().objects.get_or_create(username=BENCH_USERNAME)
    collection, _ = Collection.objects.get_or_create(
        owner=owner, name="bench", defaults={"search_language": "english"}
    )
    return owner, collection


def _fill(collection, count: int, words: list[str]) -> float:
    """Make `count` chunks in the collection unless they exist; seconds it took."""
    from django.db import connection
    from django.db import transaction

    from documents.models import Chunk
    from documents.models import Document

    existing = Chunk.objects.filter(document__collection=collection).count()
    if existing == count:
        return 0.0
    started = time.perf_counter()
    Document.objects.filter(collection=collection).delete()
    per_document = -(-count // DOCUMENTS)
    documents = Document.objects.bulk_create(
        Document(
            collection=collection,
            original=f"bench/{number}.pdf",
            filename=f"bench-{number}.pdf",
            title=f"Bench document {number}",
            kind="pdf",
            sha256=f"{number:064d}",
            status="completed",
            page_count=per_document // 2,
            chunk_count=per_document,
        )
        for number in range(DOCUMENTS)
    )
    rows = (
        (
            documents[index // per_document].id,
            index % per_document,
            text,
            1 + (index % per_document) // 2,
            0,
            len(text),
            "english",
        )
        for index, text in enumerate(chunk_texts(count, words))
    )
    columns = (
        'document_id, "order", text, page_number, start_offset, end_offset,'
        " search_config"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(
                f"COPY documents_chunk ({columns}) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO documents_chunk ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                list(rows),
            )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE documents_chunk")
        else:
            cursor.execute("ANALYZE")
    return time.perf_counter() - started


def search_child(args: argparse.Namespace) -> None:
    """In a child process: fill one database, time the queries, print JSON."""
    _setup_django(args.database_url)
    from django.db import connection

    from documents.models import Chunk
    from documents.selectors import chunk_search

    owner, collection = _bench_collection()
    words = vocabulary()
    fill_s = _fill(collection, args.chunks, words)
    sample = list(
        Chunk.objects.filter(document__collection=collection)
        .order_by("id")
        .values_list("text", flat=True)[:2000]
    )
    queries = search_queries(args.queries + 20, words, sample)
    timings, hits = [], []
    for index, query in enumerate(queries):
        started = time.perf_counter()
        results = chunk_search(
            query=query, user=owner, collection_id=collection.id, limit=20
        )
        elapsed = time.perf_counter() - started
        if index >= 20:
            timings.append(elapsed * 1000)
            hits.append(len(results.hits))
    timings.sort()
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "chunks": Chunk.objects.filter(document__collection=collection).count(),
                "fill_s": round(fill_s, 1),
                "p50_ms": statistics.median(timings),
                "p95_ms": timings[int(len(timings) * 0.95) - 1],
                "queries": len(timings),
                "with_20_hits": sum(1 for count in hits if count == 20),
            }
        )
    )


def search_bench(args: argparse.Namespace) -> None:
    databases = [
        os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        "sqlite:////tmp/mediaqueue-bench-documents.sqlite3",
    ]
    _create_postgres_database(databases[0])
    print()
    print(f"search: {args.chunks} chunks, {args.queries} queries, 20 results each")
    print(f"{'database':12}{'p50 ms':>10}{'p95 ms':>10}{'target p50':>12}  notes")
    for url in databases:
        completed = subprocess.run(
            [
                sys.executable,
                __file__,
                "--search-child",
                "--database-url",
                url,
                "--chunks",
                str(args.chunks),
                "--queries",
                str(args.queries),
            ],
            capture_output=True,
            text=True,
            cwd=PROJECT_DIR,
        )
        if completed.returncode:
            print(completed.stderr[-3000:])
            continue
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        notes = (
            f"{result['chunks']} chunks; {result['with_20_hits']} queries with 20+ hits"
        )
        if result["fill_s"]:
            notes += f"; indexed in {result['fill_s']} s"
        print(
            f"{result['vendor']:12}{result['p50_ms']:10.1f}{result['p95_ms']:10.1f}"
            f"{'<= ' + str(SEARCH_TARGET_MS):>12}  {notes}"
        )


def _create_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not found:
            connection.execute(f'CREATE DATABASE "{name}"')


# UPLOAD -------------------------------------------------------------------

UPLOAD_BYTES = 10 * 1024 * 1024


def big_pdf() -> bytes:
    """A one-page PDF of about 10 MB: a noise image compresses to nothing."""
    import numpy as np
    from PIL import Image

    side = int((UPLOAD_BYTES / 3) ** 0.5)
    pixels = np.random.default_rng(5).integers(0, 256, (side, side, 3), np.uint8)
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, "Scanned survey with a photograph")
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", compress_level=1)
    pdf.image(buffer, x=10, y=30, w=190)
    return bytes(pdf.output())


def upload_setup(args: argparse.Namespace) -> None:
    """In a child process: the bench user's token and collection, as JSON."""
    _setup_django(args.database_url)
    from rest_framework.authtoken.models import Token

    owner, collection = _bench_collection()
    token, _ = Token.objects.get_or_create(user=owner)
    print(json.dumps({"token": token.key, "collection": collection.id}))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def upload_bench(args: argparse.Namespace) -> None:
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    _create_postgres_database(database_url)
    media = Path(tempfile.mkdtemp(prefix="mq-bench-media-"))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "MEDIA_ROOT": str(media),
        "DOCUMENTS_RATE_UPLOAD": "",
        "API_RATE_API": "",
    }
    setup = subprocess.run(
        [sys.executable, __file__, "--upload-setup", "--database-url", database_url],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env=env,
        check=True,
    )
    account = json.loads(setup.stdout.strip().splitlines()[-1])
    port = _free_port()
    log = (media / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(port)
        pdf = big_pdf()
        stored = _time_uploads(
            port,
            account,
            pdf,
            args.uploads,
            f"/api/v1/documents/agent/{account['collection']}/upload",
            200,
        )
        # The same bodies to a collection that does not exist: received and
        # parsed by Django (the request guard reads multipart bodies), then
        # refused (404) before any work of this app.
        parsed = _time_uploads(
            port,
            account,
            pdf,
            args.uploads,
            "/api/v1/documents/agent/999999999/upload",
            404,
        )
        print()
        print(
            f"upload of a {len(pdf) / 1e6:.1f} MB PDF to gunicorn (2 sync workers), "
            f"{len(stored)} requests each"
        )
        for name, timings in (
            ("stored and queued", stored),
            ("body only (404)", parsed),
        ):
            print(
                f"{name:20} p50 {statistics.median(timings):6.1f} ms, "
                f"p95 {timings[int(len(timings) * 0.95) - 1]:6.1f} ms"
            )
        print(f"target p50 <= {UPLOAD_TARGET_MS} ms")
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
        shutil.rmtree(media, ignore_errors=True)
        import redis

        redis.Redis.from_url(redis_url).flushdb()


def _time_uploads(
    port: int, account: dict, pdf: bytes, count: int, path: str, expected: int
) -> list[float]:
    """Milliseconds to the whole answer of `count` uploads (3 more first, unmeasured)."""
    timings = []
    for number in range(count + 3):
        data = pdf + f"\n% bench {number} {uuid.uuid4().hex}\n".encode()
        boundary = uuid.uuid4().hex
        body = b"".join(
            [
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="survey.pdf"\r\nContent-Type: application/pdf\r\n\r\n'.encode(),
                data,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.connect()
        started = time.perf_counter()
        connection.request(
            "POST",
            path,
            body=body,
            headers={
                "Authorization": f"Token {account['token']}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        answer = connection.getresponse()
        payload = answer.read()
        elapsed = time.perf_counter() - started
        connection.close()
        if answer.status != expected:
            raise SystemExit(f"upload answered {answer.status}: {payload[:500]!r}")
        if number >= 3:  # the first requests load the workers' code
            timings.append(elapsed * 1000)
    timings.sort()
    return timings


def _wait_for_port(port: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100, help="text PDF pages")
    parser.add_argument("--ocr-pages", type=int, default=3, help="per round and kind")
    parser.add_argument("--receipts", type=int, default=6, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--uploads", type=int, default=30)
    parser.add_argument("--skip-extraction", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--skip-upload", action="store_true")
    parser.add_argument("--search-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--upload-setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.search_child:
        search_child(args)
        return
    if args.upload_setup:
        upload_setup(args)
        return
    if not args.skip_extraction:
        extraction_bench(args)
    if not args.skip_search:
        search_bench(args)
    if not args.skip_upload:
        upload_bench(args)


if __name__ == "__main__":
    main()
