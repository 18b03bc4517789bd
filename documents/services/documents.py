"""Documents in: uploads and web pages by URL, queued for processing; reprocess, delete."""

import contextlib
import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from documents.errors import AlreadyProcessing
from documents.errors import DuplicateDocument
from documents.errors import ForbiddenSourceUrl
from documents.extraction import DocumentKind
from documents.extraction import EmptyDocument
from documents.extraction import TooLarge
from documents.extraction import sniff_file
from documents.extraction.docx_text import check_archive
from documents.models import Collection
from documents.models import Document
from documents.selectors import document_active_job
from documents.services.limits import extraction_limits
from documents.services.webhooks import webhook_notify
from jobs import services as job_services
from jobs.errors import JobStateConflict
from jobs.files import delete_quietly
from jobs.models import ProcessingJob
from outbound import OutboundError
from outbound import check_url

logger = logging.getLogger(__name__)

PROCESS_JOB_TYPE = "documents.process"
WEBPAGE_JOB_TYPE = "documents.webpage"
HASH_CHUNK_BYTES = 1024 * 1024
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class DocumentSubmission:
    """A document queued for processing and the job that will process it."""

    document: Document
    job: ProcessingJob


def clean_filename(name: str) -> str:
    """The client's file name without directories or control characters (for display only)."""
    name = unicodedata.normalize("NFC", name or "")
    name = PurePosixPath(name.replace("\\", "/")).name
    name = _UNSAFE_NAME.sub("", name).strip() or "document"
    if len(name) > 200:
        stem, dot, suffix = name.rpartition(".")
        name = f"{stem[:190]}.{suffix[:8]}" if dot and len(suffix) <= 8 else name[:200]
    return name


def _sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for block in upload.chunks(HASH_CHUNK_BYTES):
        digest.update(block)
    upload.seek(0)
    return digest.hexdigest()


def document_upload(
    *, collection: Collection, upload: UploadedFile, uploaded_by: Any = None
) -> DocumentSubmission:
    """Store an uploaded file as a document and queue its processing (sent on commit).

    Judged by content before anything is stored: empty, too large, an
    unsupported or damaged type, a DOCX archive bomb are refused
    (ExtractionError, 4xx). The same bytes twice in a collection are
    refused (DuplicateDocument), unless the earlier copy failed or was
    cancelled: then that document is processed again.
    """
    limits = extraction_limits()
    if upload.size == 0:
        raise EmptyDocument("the file is empty")
    if upload.size > limits.max_bytes:
        raise TooLarge(
            f"the file has {upload.size} bytes; at most {limits.max_bytes} are accepted"
        )
    filename = clean_filename(upload.name or "")
    kind = sniff_file(upload, filename=filename)
    if kind is DocumentKind.DOCX:
        check_archive(upload, limits)
        upload.seek(0)
    sha256 = _sha256(upload)
    existing = Document.objects.filter(collection=collection, sha256=sha256).first()
    if existing is not None:
        return _resubmit_duplicate(existing, uploaded_by=uploaded_by)
    document = Document(
        collection=collection,
        filename=filename,
        kind=kind.value,
        size_bytes=upload.size,
        sha256=sha256,
        status=Document.Status.QUEUED,
    )
    document.original.save(filename, upload, save=False)
    try:
        with transaction.atomic():
            document.full_clean(exclude=["original"], validate_constraints=False)
            document.save(force_insert=True)
            job = job_services.job_submit(
                job_type=PROCESS_JOB_TYPE,
                target=document,
                submitted_by=uploaded_by,
                priority=7,
            )
    except IntegrityError:
        # The same bytes were uploaded concurrently into this collection.
        delete_quietly(document.original.name)
        existing = Document.objects.filter(collection=collection, sha256=sha256).first()
        if existing is None:
            raise
        return _resubmit_duplicate(existing, uploaded_by=uploaded_by)
    except BaseException:
        delete_quietly(document.original.name)
        raise
    return DocumentSubmission(document, job)


def _resubmit_duplicate(existing: Document, *, uploaded_by: Any) -> DocumentSubmission:
    if document_active_job(document=existing) is None and existing.status in (
        Document.Status.FAILED,
        Document.Status.CANCELLED,
        Document.Status.QUEUED,
        Document.Status.PROCESSING,
    ):
        # A failed or abandoned copy of the same bytes: process it again.
        return document_reprocess(document=existing, submitted_by=uploaded_by)
    raise DuplicateDocument(
        f"this file is already document {existing.id} of the collection",
        document_id=existing.id,
    )


def document_url_check(url: str) -> str:
    """The URL stripped, or ForbiddenSourceUrl for one that will never be fetched."""
    url = (url or "").strip()
    try:
        check_url(url, allowed_networks=settings.DOCUMENTS_OUTBOUND_ALLOWED_NETWORKS)
    except OutboundError as error:
        raise ForbiddenSourceUrl(str(error)) from None
    if len(url) > 2000:
        raise ForbiddenSourceUrl("the URL is longer than 2000 characters")
    return url


def _url_filename(url: str) -> str:
    parts = urlsplit(url)
    last = PurePosixPath(parts.path).name
    return clean_filename(f"{parts.hostname or 'page'}{'/' + last if last else ''}")


@transaction.atomic
def document_submit_url(
    *, collection: Collection, url: str, submitted_by: Any = None
) -> DocumentSubmission:
    """Queue the fetch and processing of a web page (http/https, SSRF-guarded when fetched)."""
    url = document_url_check(url)
    document = Document(
        collection=collection,
        filename=_url_filename(url),
        source_url=url,
        status=Document.Status.QUEUED,
    )
    document.full_clean(exclude=["original"], validate_constraints=False)
    document.save(force_insert=True)
    job = job_services.job_submit(
        job_type=WEBPAGE_JOB_TYPE, target=document, submitted_by=submitted_by
    )
    return DocumentSubmission(document, job)


def document_reprocess(
    *, document: Document, submitted_by: Any = None
) -> DocumentSubmission:
    """Queue a document's processing again (a web page is fetched again); 409 while one is active."""
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document.pk)
        if document_active_job(document=document) is not None:
            raise AlreadyProcessing(
                f"document {document.id} is already queued or being processed",
                document_id=document.id,
            )
        Document.objects.filter(pk=document.pk).update(
            status=Document.Status.QUEUED, error="", updated_at=timezone.now()
        )
        document.status, document.error = Document.Status.QUEUED, ""
        job = job_services.job_submit(
            job_type=WEBPAGE_JOB_TYPE if document.source_url else PROCESS_JOB_TYPE,
            target=document,
            submitted_by=submitted_by,
            priority=7,
        )
    return DocumentSubmission(document, job)


def _cancel_active_jobs(document: Document, *, cancelled_by: Any) -> None:
    job = document_active_job(document=document)
    if job is None:
        return
    with contextlib.suppress(JobStateConflict):  # it finished meanwhile
        job_services.job_cancel(job_id=job.id, cancelled_by=cancelled_by)


def document_delete(*, document: Document, deleted_by: Any = None) -> None:
    """Cancel its active job, delete the document with its chunks, and its file after commit."""
    _cancel_active_jobs(document, cancelled_by=deleted_by)
    name = document.original.name
    with transaction.atomic():
        Document.objects.filter(pk=document.pk).delete()
        if name:
            transaction.on_commit(lambda: delete_quietly(name))


def documents_delete(*, documents: QuerySet[Document], deleted_by: Any = None) -> int:
    """document_delete for each of a selection; returns how many were deleted."""
    count = 0
    for document in documents:
        document_delete(document=document, deleted_by=deleted_by)
        count += 1
    return count


def document_mark_cancelled(*, document_id: int) -> None:
    """The document's job was cancelled (the engine's on_cancel hook): record it,
    unless a later run completed or failed it meanwhile."""
    Document.objects.filter(
        id=document_id,
        status__in=[Document.Status.QUEUED, Document.Status.PROCESSING],
    ).update(status=Document.Status.CANCELLED, updated_at=timezone.now())


def document_mark_failed(*, document_id: int, error: str) -> None:
    """Record a document's processing as failed for good, and tell its owner's webhook."""
    document = (
        Document.objects.select_related("collection")
        .filter(id=document_id)
        .exclude(status=Document.Status.COMPLETED)
        .first()
    )
    if document is None:
        return  # deleted, or a later run completed it
    Document.objects.filter(id=document_id).update(
        status=Document.Status.FAILED,
        error=error[:5000],
        processed_at=timezone.now(),
        updated_at=timezone.now(),
    )
    document.status, document.error = Document.Status.FAILED, error[:5000]
    webhook_notify(
        owner_id=document.collection.owner_id,
        event="document.failed",
        payload=document_event_payload(document),
    )


def document_event_payload(document: Document) -> dict:
    """What a webhook says about a document."""
    return {
        "document_id": document.id,
        "collection_id": document.collection_id,
        "agent_id": document.collection_id,
        "filename": document.filename,
        "source_url": document.source_url or None,
        "status": document.status,
        "kind": document.kind or None,
        "title": document.title,
        "page_count": document.page_count,
        "chunk_count": document.chunk_count,
        "error": document.error or None,
    }
