"""Document services against the database: upload rules, processing, web pages, failures."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from documents import services
from documents.errors import AlreadyProcessing
from documents.errors import DuplicateDocument
from documents.errors import ForbiddenSourceUrl
from documents.errors import PageUnavailable
from documents.extraction import ArchiveBomb
from documents.extraction import EmptyDocument
from documents.extraction import TooLarge
from documents.extraction import UnsupportedType
from documents.models import Chunk
from documents.models import Collection
from documents.models import Document
from documents.tests import samples
from jobs.errors import PermanentJobError
from jobs.models import ProcessingJob

pytestmark = pytest.mark.django_db

PAGES = [
    "Pallets were shipped to customers in the northern region. " * 30,
    "The board approved a budget for new trucks and warehouse staff. " * 30,
]


def upload(data: bytes, name: str = "report.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


class ProgressLog:
    """Records job.progress(current, total, message) calls."""

    def __init__(self):
        self.calls: list[tuple[int, str]] = []

    def __call__(self, current, total=100, message=""):
        self.calls.append((int(current), message))

    @property
    def steps(self) -> list[int]:
        return [current for current, _ in self.calls]


def job_of(document: Document, job_type=services.PROCESS_JOB_TYPE) -> ProcessingJob:
    return ProcessingJob.objects.get(object_id=str(document.pk), job_type=job_type)


# UPLOAD ---------------------------------------------------------------------


def test_upload_stores_the_file_and_queues_processing_after_commit(
    collection, user, django_capture_on_commit_callbacks
):
    """The row, its file and a queued high-queue job are written; the message waits for the commit."""
    with django_capture_on_commit_callbacks() as callbacks:
        submission = services.document_upload(
            collection=collection,
            upload=upload(samples.text_pdf(PAGES), "Q3 report.pdf"),
            uploaded_by=user,
        )
        job = job_of(submission.document)
        assert job.status == ProcessingJob.Status.QUEUED
    assert len(callbacks) == 1
    document = Document.objects.get(pk=submission.document.pk)
    assert document.status == Document.Status.QUEUED
    assert document.kind == "pdf"
    assert document.filename == "Q3 report.pdf"
    assert len(document.sha256) == 64
    assert document.original.name.startswith(f"documents/{collection.pk}/")
    assert "Q3" not in document.original.name  # stored under a random name
    assert job.queue == "high"
    assert job.submitted_by == user
    assert submission.job.task_id == str(job.id)


@pytest.mark.parametrize(
    ("data", "name", "error", "message"),
    [
        (b"", "empty.txt", EmptyDocument, "empty"),
        (
            b"\x7fELF\x02\x01\x01" + b"\x00" * 200,
            "tool.txt",
            UnsupportedType,
            "executable",
        ),
        (b"GIF89a" + b"\x00\x01" * 50, "anim.gif", UnsupportedType, "GIF"),
        (bytes(range(256)) * 40, "notes.txt", UnsupportedType, "binary"),
    ],
)
def test_upload_refuses_bad_files_before_storing_anything(
    collection, user, data, name, error, message
):
    """Empty, executable, unsupported and binary-posing-as-text files are refused with a reason."""
    with pytest.raises(error, match=message):
        services.document_upload(
            collection=collection, upload=upload(data, name), uploaded_by=user
        )
    assert Document.objects.count() == 0
    assert ProcessingJob.objects.count() == 0


def test_upload_over_the_size_limit_is_refused(collection, user, settings):
    settings.DOCUMENTS_MAX_UPLOAD_BYTES = 1000
    with pytest.raises(TooLarge, match="at most 1000"):
        services.document_upload(
            collection=collection, upload=upload(b"a" * 1001, "a.txt"), uploaded_by=user
        )


def test_docx_zip_bomb_is_refused_at_upload(collection, user):
    """The archive's directory is checked in the request: nothing is stored or queued."""
    with pytest.raises(ArchiveBomb, match="unpacks to"):
        services.document_upload(
            collection=collection,
            upload=upload(samples.docx_bomb(), "bomb.docx"),
            uploaded_by=user,
        )
    assert Document.objects.count() == 0


def test_same_bytes_twice_in_a_collection_is_a_duplicate(collection, user):
    data = samples.text_pdf(PAGES)
    first = services.document_upload(
        collection=collection, upload=upload(data), uploaded_by=user
    )
    ProcessingJob.objects.filter(id=first.job.id).update(status="completed")
    Document.objects.filter(pk=first.document.pk).update(status="completed")
    with pytest.raises(DuplicateDocument) as refused:
        services.document_upload(
            collection=collection, upload=upload(data, "copy.pdf"), uploaded_by=user
        )
    assert refused.value.extra == {"document_id": first.document.pk}
    assert Document.objects.count() == 1


def test_same_bytes_in_another_collection_is_a_new_document(collection, user):
    data = samples.text_pdf(PAGES)
    other = services.collection_create(owner=user, name="Archive")
    services.document_upload(
        collection=collection, upload=upload(data), uploaded_by=user
    )
    services.document_upload(collection=other, upload=upload(data), uploaded_by=user)
    assert Document.objects.count() == 2


def test_uploading_a_failed_document_again_processes_it_again(collection, user):
    """A duplicate of a document that failed is queued again instead of refused."""
    data = samples.text_pdf(PAGES)
    first = services.document_upload(
        collection=collection, upload=upload(data), uploaded_by=user
    )
    ProcessingJob.objects.filter(id=first.job.id).update(status="failed")
    services.document_mark_failed(document_id=first.document.pk, error="boom")
    again = services.document_upload(
        collection=collection, upload=upload(data), uploaded_by=user
    )
    assert again.document.pk == first.document.pk
    assert again.job.id != first.job.id
    assert Document.objects.get().status == Document.Status.QUEUED


def test_reprocess_while_a_job_is_active_is_a_conflict(collection, user):
    submission = services.document_upload(
        collection=collection, upload=upload(samples.text_pdf(PAGES)), uploaded_by=user
    )
    with pytest.raises(AlreadyProcessing):
        services.document_reprocess(document=submission.document, submitted_by=user)


def test_clean_filename_drops_directories_and_control_characters():
    assert services.clean_filename("../../etc/pass\x01wd") == "passwd"
    assert services.clean_filename("C:\\Users\\me\\cv.docx") == "cv.docx"
    assert services.clean_filename("") == "document"
    assert len(services.clean_filename("a" * 300 + ".pdf")) <= 200


# PROCESSING -------------------------------------------------------------------


def test_processing_a_text_pdf_writes_chunks_with_pages_and_reports_each_step(
    collection, user
):
    """0 → 20 extracting → 50 chunking → 80 indexing → 100, chunks carry page numbers."""
    submission = services.document_upload(
        collection=collection,
        upload=upload(samples.text_pdf(PAGES, title="Quarterly"), "q.pdf"),
        uploaded_by=user,
    )
    progress = ProgressLog()
    result = services.document_process(
        document_id=submission.document.pk, progress=progress
    )
    document = Document.objects.get(pk=submission.document.pk)
    assert progress.steps[0] == 20
    assert progress.calls[0][1] == "Extracting text from q.pdf..."
    assert [step for step in progress.steps if step in (50, 80, 100)] == [50, 80, 100]
    assert progress.steps == sorted(progress.steps)
    assert document.status == Document.Status.COMPLETED
    assert document.page_count == 2
    assert document.title == "Quarterly"
    assert document.language == "en"
    assert result == {
        "document_id": document.pk,
        "chunk_count": document.chunk_count,
        "page_count": 2,
        "ocr_page_count": 0,
        "kind": "pdf",
        "language": "en",
        "embedded": False,
    }
    chunks = list(Chunk.objects.filter(document=document).order_by("order"))
    assert len(chunks) == document.chunk_count >= 2
    assert {chunk.page_number for chunk in chunks} == {1, 2}
    assert all(chunk.search_config == "english" for chunk in chunks)
    assert "northern region" in chunks[0].text


def test_processing_twice_replaces_the_chunks(collection, user):
    """Idempotent: a redelivered job leaves one set of chunks."""
    submission = services.document_upload(
        collection=collection, upload=upload(samples.text_pdf(PAGES)), uploaded_by=user
    )
    services.document_process(
        document_id=submission.document.pk, progress=ProgressLog()
    )
    first = Chunk.objects.count()
    services.document_process(
        document_id=submission.document.pk, progress=ProgressLog()
    )
    assert Chunk.objects.count() == first


def test_docx_with_tables_and_text_in_latin1_are_processed(collection, user):
    docx = services.document_upload(
        collection=collection,
        upload=upload(samples.docx_with_tables(), "report.docx"),
        uploaded_by=user,
    )
    latin = services.document_upload(
        collection=collection,
        upload=upload(
            "Crème brûlée à la française, déjà vu.\n".encode("latin-1"), "n.txt"
        ),
        uploaded_by=user,
    )
    services.document_process(document_id=docx.document.pk, progress=ProgressLog())
    services.document_process(document_id=latin.document.pk, progress=ProgressLog())
    docx_text = " ".join(
        Chunk.objects.filter(document=docx.document).values_list("text", flat=True)
    )
    assert "North | 120 | 140" in docx_text
    assert "ACME Corp - Internal" in docx_text
    latin_doc = Document.objects.get(pk=latin.document.pk)
    assert latin_doc.kind == "text"
    assert latin_doc.encoding == "cp1252"
    assert Chunk.objects.get(document=latin_doc).text.startswith("Crème brûlée")


def test_corrupt_pdf_fails_at_once_with_the_reason(collection, user):
    data = samples.text_pdf(PAGES)
    submission = services.document_upload(
        collection=collection, upload=upload(data[: len(data) // 2]), uploaded_by=user
    )
    with pytest.raises(PermanentJobError, match="the PDF cannot be read"):
        services.document_process(
            document_id=submission.document.pk, progress=ProgressLog()
        )


def test_encrypted_pdf_fails_with_the_reason(collection, user):
    submission = services.document_upload(
        collection=collection,
        upload=upload(samples.encrypted_pdf(samples.text_pdf(PAGES))),
        uploaded_by=user,
    )
    with pytest.raises(PermanentJobError, match="protected by a password"):
        services.document_process(
            document_id=submission.document.pk, progress=ProgressLog()
        )


def test_pdf_over_the_page_limit_fails_quickly(collection, user, settings):
    settings.DOCUMENTS_MAX_PAGES = 50
    submission = services.document_upload(
        collection=collection, upload=upload(samples.blank_pdf(60)), uploaded_by=user
    )
    with pytest.raises(PermanentJobError, match="60 pages; at most 50"):
        services.document_process(
            document_id=submission.document.pk, progress=ProgressLog()
        )


def test_object_stream_bomb_is_stopped_by_the_parser_memory_cap(
    collection, user, settings
):
    settings.DOCUMENTS_PARSER_MEMORY_MB = 64
    submission = services.document_upload(
        collection=collection,
        upload=upload(samples.object_stream_bomb_pdf(), "bomb.pdf"),
        uploaded_by=user,
    )
    with pytest.raises(PermanentJobError, match="memory limit of 64 MiB"):
        services.document_process(
            document_id=submission.document.pk, progress=ProgressLog()
        )


def test_missing_stored_file_fails_for_good(collection, user):
    submission = services.document_upload(
        collection=collection, upload=upload(samples.text_pdf(PAGES)), uploaded_by=user
    )
    submission.document.original.delete(save=False)
    with pytest.raises(PermanentJobError, match="stored file of report.pdf is missing"):
        services.document_process(
            document_id=submission.document.pk, progress=ProgressLog()
        )


def test_mark_failed_records_the_error_but_never_undoes_a_completion(collection, user):
    submission = services.document_upload(
        collection=collection, upload=upload(samples.text_pdf(PAGES)), uploaded_by=user
    )
    services.document_mark_failed(document_id=submission.document.pk, error="Boom")
    failed = Document.objects.get(pk=submission.document.pk)
    assert (failed.status, failed.error) == ("failed", "Boom")
    services.document_process(document_id=failed.pk, progress=ProgressLog())
    services.document_mark_failed(document_id=failed.pk, error="late")
    assert Document.objects.get(pk=failed.pk).status == "completed"


def test_delete_removes_chunks_and_the_file_after_commit(
    collection, user, django_capture_on_commit_callbacks
):
    submission = services.document_upload(
        collection=collection, upload=upload(samples.text_pdf(PAGES)), uploaded_by=user
    )
    services.document_process(
        document_id=submission.document.pk, progress=ProgressLog()
    )
    storage = submission.document.original.storage
    name = submission.document.original.name
    with django_capture_on_commit_callbacks(execute=True):
        services.document_delete(document=submission.document, deleted_by=user)
    assert Chunk.objects.count() == 0
    assert not storage.exists(name)


def test_delete_cancels_the_waiting_job(collection, user):
    submission = services.document_upload(
        collection=collection, upload=upload(samples.text_pdf(PAGES)), uploaded_by=user
    )
    services.document_delete(document=submission.document, deleted_by=user)
    assert ProcessingJob.objects.get(id=submission.job.id).status == "cancelled"


# COLLECTIONS ------------------------------------------------------------------


def test_collection_names_are_unique_per_owner(user, other_user):
    services.collection_create(owner=user, name="Notes")
    services.collection_create(owner=other_user, name="Notes")
    with pytest.raises(ValidationError):
        services.collection_create(owner=user, name="Notes")


def test_changing_the_search_language_queues_a_reindex_that_updates_chunks(
    collection, user
):
    submission = services.document_upload(
        collection=collection, upload=upload(samples.text_pdf(PAGES)), uploaded_by=user
    )
    services.document_process(
        document_id=submission.document.pk, progress=ProgressLog()
    )
    services.collection_update(collection=collection, search_language="german")
    job = ProcessingJob.objects.get(job_type=services.REINDEX_JOB_TYPE)
    assert job.object_id == str(collection.pk)
    result = services.collection_reindex(collection_id=collection.pk)
    assert result["chunks_reindexed"] == Chunk.objects.count()
    assert set(Chunk.objects.values_list("search_config", flat=True)) == {"german"}
    assert (
        services.collection_reindex(collection_id=collection.pk)["chunks_reindexed"]
        == 0
    )


def test_deleting_a_collection_removes_its_documents(collection, user):
    services.document_upload(
        collection=collection, upload=upload(samples.text_pdf(PAGES)), uploaded_by=user
    )
    services.collection_delete(collection=collection)
    assert not Collection.objects.exists()
    assert not Document.objects.exists()


# WEB PAGES ----------------------------------------------------------------------


def test_web_page_is_fetched_stored_and_indexed(
    collection, user, web, loopback_allowed
):
    submission = services.document_submit_url(
        collection=collection, url=web.url("/article"), submitted_by=user
    )
    assert job_of(submission.document, services.WEBPAGE_JOB_TYPE).queue == "low"
    progress = ProgressLog()
    result = services.document_webpage_process(
        document_id=submission.document.pk, progress=progress
    )
    document = Document.objects.get(pk=submission.document.pk)
    assert progress.steps[:2] == [10, 20]
    assert progress.steps[-3:] == [50, 80, 100]
    assert document.kind == "html"
    assert document.title == "Composting at home"
    assert document.original.read().startswith(b"<!doctype html>")
    text = " ".join(
        Chunk.objects.filter(document=document).values_list("text", flat=True)
    )
    assert "microbes that break the material down" in text
    assert "Cookie settings" not in text  # boilerplate left out
    assert result["chunk_count"] >= 1


def test_url_route_refuses_non_http_and_loopback_at_once(collection, user):
    """Without an allowed network, a loopback literal or `localhost` is refused before queueing."""
    for url in (
        "ftp://example.com/file",
        "http://user:pw@example.com/",
        "http://127.0.0.1:8000/admin",
        "http://localhost/",
        "http://[::1]/",
        "http://2130706433/",
    ):
        with pytest.raises(ForbiddenSourceUrl):
            services.document_submit_url(
                collection=collection, url=url, submitted_by=user
            )
    assert Document.objects.count() == 0


def test_page_behind_a_redirect_to_a_forbidden_address_is_refused(
    collection, user, web, web2, settings
):
    """Only 127.0.0.2 is allowed: its redirect to 127.0.0.1 fails the job for good."""
    settings.DOCUMENTS_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.2/32"]
    submission = services.document_submit_url(
        collection=collection,
        url=web2.url(f"/redirect?to={web.url('/article')}"),
        submitted_by=user,
    )
    with pytest.raises(PermanentJobError, match="127.0.0.1"):
        services.document_webpage_process(
            document_id=submission.document.pk, progress=ProgressLog()
        )
    assert web.received == []


def test_slow_page_times_out_and_is_retried(
    collection, user, web, loopback_allowed, settings
):
    settings.DOCUMENTS_WEBPAGE_TIMEOUT_S = 0.5
    submission = services.document_submit_url(
        collection=collection, url=web.url("/slow"), submitted_by=user
    )
    with pytest.raises(PageUnavailable, match="could not be fetched"):
        services.document_webpage_process(
            document_id=submission.document.pk, progress=ProgressLog()
        )


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("/status?code=503", PageUnavailable, "HTTP 503"),
        ("/status?code=404", PermanentJobError, "HTTP 404"),
        ("/binary", PermanentJobError, "content type"),
    ],
)
def test_page_answers_decide_between_retry_and_failure(
    collection, user, web, loopback_allowed, path, error, message
):
    submission = services.document_submit_url(
        collection=collection, url=web.url(path), submitted_by=user
    )
    with pytest.raises(error, match=message):
        services.document_webpage_process(
            document_id=submission.document.pk, progress=ProgressLog()
        )
