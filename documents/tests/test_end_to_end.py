"""Documents, web pages and receipts through a real Celery worker (prefork), Redis and the database.

One worker serves the whole module (starting one and loading the OCR
models takes seconds). Progress is observed by a trigger the test puts on
the jobs table: every change of a job's progress is logged in order, so
steps a poll would miss are seen too.
"""

import json
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from conftest import WorkerProcess
from conftest import _flush_broker
from documents import services
from documents.models import Document
from documents.models import Receipt
from documents.tests import samples
from jobs.models import ProcessingJob
from outbound import SIGNATURE_HEADER
from outbound import TIMESTAMP_HEADER
from outbound import verify

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TEXT_PAGES = [
    "Quarterly logistics report. Pallets were shipped to customers in the "
    "northern region, and the warehouse doubled its throughput. " * 8,
    "Outlook: the board approved a budget for refrigerated trucks. " * 8,
]
SCANNED_LINES = ["Invoice for glacier survey", "Total due within thirty days"]


@pytest.fixture(scope="module")
def media_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("documents-media")


@pytest.fixture(scope="module")
def worker(django_db_setup, media_root):
    _flush_broker()
    process = WorkerProcess(
        queues="high,medium,low",
        concurrency=2,
        extra_env={
            "MEDIA_ROOT": str(media_root),
            "DOCUMENTS_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
            "DOCUMENTS_PARSER_MEMORY_MB": "64",
            "DOCUMENTS_OCR_THREADS": "1",
        },
    ).wait_ready()
    yield process
    process.stop()
    _flush_broker()


@pytest.fixture
def media(settings, media_root):
    settings.MEDIA_ROOT = str(media_root)


@pytest.fixture
def progress_log():
    """Every change of a job's progress, in order, logged by a trigger on the jobs table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE TABLE test_job_progress (id serial PRIMARY KEY,"
                " job_id text, progress int, message text)"
            )
            cursor.execute(
                """
                CREATE FUNCTION test_log_progress() RETURNS trigger AS $$
                BEGIN
                    IF NEW.progress IS DISTINCT FROM OLD.progress
                       OR NEW.progress_message IS DISTINCT FROM OLD.progress_message THEN
                        INSERT INTO test_job_progress (job_id, progress, message)
                        VALUES (NEW.task_id, NEW.progress, NEW.progress_message);
                    END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql
                """
            )
            cursor.execute(
                "CREATE TRIGGER test_log_progress AFTER UPDATE ON jobs_processingjob"
                " FOR EACH ROW EXECUTE FUNCTION test_log_progress()"
            )
        else:
            cursor.execute(
                "CREATE TABLE test_job_progress (id integer PRIMARY KEY AUTOINCREMENT,"
                " job_id text, progress int, message text)"
            )
            cursor.execute(
                """
                CREATE TRIGGER test_log_progress AFTER UPDATE ON jobs_processingjob
                WHEN NEW.progress IS NOT OLD.progress
                     OR NEW.progress_message IS NOT OLD.progress_message
                BEGIN
                    INSERT INTO test_job_progress (job_id, progress, message)
                    VALUES (NEW.task_id, NEW.progress, NEW.progress_message);
                END
                """
            )

    def steps(task_id: str) -> list[tuple[int, str]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT progress, message FROM test_job_progress"
                " WHERE job_id = %s ORDER BY id",
                [task_id],
            )
            return [(progress, message) for progress, message in cursor.fetchall()]

    yield steps
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER IF EXISTS test_log_progress ON jobs_processingjob"
            if connection.vendor == "postgresql"
            else "DROP TRIGGER IF EXISTS test_log_progress"
        )
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS test_log_progress()")
        cursor.execute("DROP TABLE IF EXISTS test_job_progress")


def upload(client, collection, data: bytes, name: str) -> dict:
    response = client.post(
        f"/api/v1/documents/agent/{collection.pk}/upload",
        {"file": SimpleUploadedFile(name, data)},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    return response.json()


def wait_documents(wait, ids: list[int], timeout_s: float = 120) -> dict[int, Document]:
    def finished():
        documents = list(Document.objects.filter(id__in=ids))
        if len(documents) == len(ids) and all(
            doc.status in ("completed", "failed") for doc in documents
        ):
            return {doc.id: doc for doc in documents}
        return None

    return wait(
        finished, timeout_s=timeout_s, interval_s=0.2, message="documents not done"
    )


def task(client, task_id: str) -> dict:
    return client.get(f"/api/v1/tasks/{task_id}/").json()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command may hold spaces and parentheses: fields follow the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def sandbox_processes(worker: WorkerProcess) -> list[int]:
    """Processes forked by the worker's pool processes (the extraction sandboxes)."""
    return [
        grandchild
        for pool in children(worker.process.pid)
        for grandchild in children(pool)
    ]


def test_documents_are_processed_with_the_original_progress_steps(
    worker, media, progress_log, user, user_client, collection, wait
):
    """A text PDF, a scanned page, a DOCX with tables and text in Latin-1 and UTF-8 are
    extracted, chunked and indexed by the worker; the steps arrive in order; search finds them."""
    uploaded = {
        "text": upload(
            user_client, collection, samples.text_pdf(TEXT_PAGES), "report.pdf"
        ),
        "scan": upload(
            user_client, collection, samples.scanned_pdf(SCANNED_LINES), "scan.pdf"
        ),
        "docx": upload(
            user_client, collection, samples.docx_with_tables(), "table.docx"
        ),
        "latin": upload(
            user_client,
            collection,
            "Notes de la réunion : le café est servi à Noël.\n".encode("latin-1"),
            "notes.txt",
        ),
        "utf8": upload(
            user_client,
            collection,
            "Zürich weather log: Föhn winds, sunny; naïve forecasts failed.\n".encode(),
            "weather.md",
        ),
    }
    documents = wait_documents(wait, [item["id"] for item in uploaded.values()])
    assert {name: documents[item["id"]].status for name, item in uploaded.items()} == (
        dict.fromkeys(uploaded, "completed")
    )
    text_steps = progress_log(uploaded["text"]["task_id"])
    assert text_steps[0] == (20, "Extracting text from report.pdf...")
    assert [step for step, _ in text_steps if step in (50, 80, 100)] == [50, 80, 100]
    assert [step for step, _ in text_steps] == sorted(step for step, _ in text_steps)
    scan_steps = progress_log(uploaded["scan"]["task_id"])
    assert any("by OCR" in message for _, message in scan_steps)
    assert [step for step, _ in scan_steps] == sorted(step for step, _ in scan_steps)
    assert documents[uploaded["scan"]["id"]].ocr_page_count == 1
    assert documents[uploaded["text"]["id"]].page_count == 2

    done = task(user_client, uploaded["text"]["task_id"])
    assert done["state"] == "SUCCESS"
    assert done["current"] == 100
    assert done["document_id"] == uploaded["text"]["id"]
    assert done["chunk_count"] == documents[uploaded["text"]["id"]].chunk_count >= 2

    def search(query: str) -> list[dict]:
        return user_client.get("/api/v1/documents/search/", {"q": query}).json()[
            "results"
        ]

    assert search("glacier survey")[0]["document_id"] == uploaded["scan"]["id"]
    assert search("North 140")[0]["document_id"] == uploaded["docx"]["id"]
    assert search("café Noël")[0]["document_id"] == uploaded["latin"]["id"]
    assert search("Föhn")[0]["document_id"] == uploaded["utf8"]["id"]
    pallets = search("pallets")
    assert pallets[0]["document_id"] == uploaded["text"]["id"]
    assert pallets[0]["page_number"] == 1
    assert search("refrigerated trucks")[0]["page_number"] == 2
    assert sandbox_processes(worker) == []


def test_a_web_page_served_locally_is_fetched_and_indexed(
    worker, media, user_client, collection, web, loopback_allowed, wait
):
    response = user_client.post(
        f"/api/v1/documents/agent/{collection.pk}/url",
        {"url": web.url("/article")},
        format="json",
    )
    assert response.status_code == 200, response.content
    document = wait_documents(wait, [response.json()["id"]])[response.json()["id"]]
    assert (document.status, document.kind, document.title) == (
        "completed",
        "html",
        "Composting at home",
    )
    hits = user_client.get("/api/v1/documents/search/", {"q": "microbes oxygen"}).json()
    assert hits["results"][0]["document_id"] == document.id


def test_bad_documents_fail_with_their_reason_and_the_worker_carries_on(
    worker, media, user_client, collection, wait
):
    pdf = samples.text_pdf(TEXT_PAGES)
    bad = {
        "corrupt": upload(user_client, collection, pdf[: len(pdf) // 2], "cut.pdf"),
        "encrypted": upload(
            user_client, collection, samples.encrypted_pdf(pdf), "lock.pdf"
        ),
        "bomb": upload(
            user_client, collection, samples.object_stream_bomb_pdf(), "bomb.pdf"
        ),
        "blank": upload(user_client, collection, samples.blank_pdf(3), "blank.pdf"),
    }
    good = upload(
        user_client, collection, samples.text_pdf(["after the storm"]), "ok.pdf"
    )
    documents = wait_documents(wait, [item["id"] for item in [*bad.values(), good]])
    errors = {name: documents[item["id"]].error for name, item in bad.items()}
    assert "cannot be read" in errors["corrupt"]
    assert "password" in errors["encrypted"]
    assert "memory limit of 64 MiB" in errors["bomb"]
    assert "no text was found" in errors["blank"]
    assert all(documents[item["id"]].status == "failed" for item in bad.values())
    assert documents[good["id"]].status == "completed", documents[good["id"]].error
    failed = task(user_client, bad["encrypted"]["task_id"])
    assert failed["state"] == "FAILURE"
    assert "password" in failed["error"]
    # Failed for good at once: no retries of a refused file.
    assert ProcessingJob.objects.get(task_id=bad["corrupt"]["task_id"]).attempts == 1
    assert sandbox_processes(worker) == []


def test_a_receipt_is_read_and_its_owner_webhook_signed(
    worker, media, user, user_client, web, loopback_allowed, wait
):
    endpoint = services.webhook_endpoint_set(owner=user, url=web.url("/hook"))
    response = user_client.post(
        "/receipts",
        {
            "file": SimpleUploadedFile("r.jpg", samples.receipt_image(samples.GROCERY)),
            "purchase_date": "2025-03-14",
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    receipt_id = response.json()["id"]
    wait(
        lambda: Receipt.objects.get(pk=receipt_id).status == "completed",
        timeout_s=90,
        message="receipt not read",
    )
    body = user_client.get(f"/receipts/{receipt_id}").json()
    assert (body["merchant"], body["date"], body["total"]) == (
        "CORNER GROCERY",
        "2025-03-14",
        "10.54",
    )
    assert [item["name"] for item in body["line_items"]] == [
        "Milk 1L",
        "Bread",
        "Apples 1kg",
    ]
    status = user_client.get(
        f"/receipts/ocr/queue-status?receipt_id={receipt_id}"
    ).json()
    assert status["job_id"] == f"ocr-{receipt_id}"
    assert status["status"] == "finished"
    assert status["result"]["total"] == "10.54"
    assert status["ended_at"] is not None
    wait(lambda: web.hooks(), timeout_s=30, message="no webhook delivered")
    (delivered,) = web.hooks()
    assert verify(
        delivered.body,
        secret=endpoint.secret,
        signature=delivered.headers[SIGNATURE_HEADER],
        timestamp=delivered.headers[TIMESTAMP_HEADER],
    )
    event = json.loads(delivered.body)
    assert event["event"] == "receipt.completed"
    assert event["data"]["receipt_id"] == receipt_id


def test_a_cancelled_extraction_takes_its_sandboxed_parser_down(
    worker, media, user_client, collection, wait
):
    """Forked from a Celery pool process, the parser dies with it: cancelling the job
    (which terminates the pool process) leaves no parser process behind."""
    scans = samples.merge_pdfs(
        *[samples.scanned_pdf([f"Page {n} of the ledger"]) for n in range(12)]
    )
    body = upload(user_client, collection, scans, "ledger.pdf")
    sandboxes = wait(
        lambda: sandbox_processes(worker), timeout_s=60, message="no sandbox started"
    )
    wait(
        lambda: "by OCR" in task(user_client, body["task_id"])["status"],
        timeout_s=60,
        message="OCR did not start",
    )
    assert user_client.delete(f"/api/v1/tasks/{body['task_id']}/").status_code == 200

    def gone() -> bool:
        return not any(
            Path(f"/proc/{pid}").exists() and _alive(pid) for pid in sandboxes
        )

    wait(gone, timeout_s=20, message=f"sandbox processes {sandboxes} outlived the job")
    assert user_client.get(f"/api/v1/documents/{body['id']}/").json()["status"] == (
        "cancelled"
    )
    # The pool is whole again and processes the next document.
    after = upload(user_client, collection, samples.text_pdf(["next one"]), "next.pdf")
    assert wait_documents(wait, [after["id"]])[after["id"]].status == "completed"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    if state == "Z":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
