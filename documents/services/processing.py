"""The work of the processing jobs: extract, chunk and index a document; fetch a web page.

Progress follows the original system: 20 extracting, 50 chunking, 80
indexing, 100 done (a page fetch reports 10 first). Slow work happens
outside any transaction; the chunks and the document's new state are
written together in one, so a document is never seen half-indexed.
"""

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError
from django.db import transaction
from django.utils import timezone

from documents import chunking
from documents import embeddings
from documents.errors import PageUnavailable
from documents.extraction import Extraction
from documents.extraction import ExtractionError
from documents.extraction import extract
from documents.extraction import ocr
from documents.models import Chunk
from documents.models import Document
from documents.services.documents import document_event_payload
from documents.services.limits import extraction_limits
from documents.services.webhooks import webhook_notify
from jobs.errors import PermanentJobError
from jobs.files import delete_quietly
from jobs.files import local_copy
from outbound import OutboundError
from outbound import guarded_get

logger = logging.getLogger(__name__)

# job.progress(current, total, message)
Progress = Callable[..., None]
EXTRACT_AT, CHUNK_AT, INDEX_AT, DONE_AT = 20, 50, 80, 100
FETCH_AT = 10
WEBPAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
_TRANSIENT_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})


def _claim(document_id: int) -> Document:
    """The document, marked processing (DoesNotExist once deleted: nothing to retry)."""
    document = Document.objects.select_related("collection").get(id=document_id)
    Document.objects.filter(id=document_id).update(
        status=Document.Status.PROCESSING, error="", updated_at=timezone.now()
    )
    return document


def _extraction_progress(progress: Progress, name: str) -> Callable:
    """Maps the extractor's page counts into 20-49, so the steps keep their order."""

    def report(stage: str, done: int, total: int) -> None:
        share = done / total if total else 1.0
        if stage == "ocr":
            current = EXTRACT_AT + 10 + int(19 * share)
            detail = f"reading page {done} of {total} by OCR"
        else:
            current = EXTRACT_AT + int(10 * share)
            detail = f"page {done} of {total}"
        progress(current, 100, f"Extracting text from {name}... ({detail})")

    return report


def _ocr_threads() -> None:
    threads = settings.DOCUMENTS_OCR_THREADS
    if threads:
        ocr.set_threads(threads)


def document_process(*, document_id: int, progress: Progress) -> dict:
    """Extract, chunk and index an uploaded document. Idempotent: its chunks are replaced.

    Refusals of the file (ExtractionError) fail the job at once with the
    reason (PermanentJobError); a missing stored file too.
    """
    document = _claim(document_id)
    name = document.filename
    progress(EXTRACT_AT, 100, f"Extracting text from {name}...")
    _ocr_threads()
    try:
        with local_copy(document.original.name) as path:
            extraction = extract(
                Path(path),
                filename=name,
                limits=extraction_limits(),
                on_progress=_extraction_progress(progress, name),
            )
    except FileNotFoundError:
        raise PermanentJobError(f"the stored file of {name} is missing") from None
    except ExtractionError as error:
        raise PermanentJobError(str(error)) from None
    return _index(document, extraction, progress)


def document_webpage_process(*, document_id: int, progress: Progress) -> dict:
    """Fetch a web page through the SSRF guard, store it, then extract, chunk and index it.

    A network failure or a 5xx/429 answer raises PageUnavailable (retried);
    a refused address, a 4xx answer or a refused page fails at once.
    """
    document = _claim(document_id)
    url = document.source_url
    progress(FETCH_AT, 100, f"Fetching {url}...")
    body = _fetch(url)
    sha256 = hashlib.sha256(body).hexdigest()
    duplicate = (
        Document.objects.filter(collection_id=document.collection_id, sha256=sha256)
        .exclude(id=document.id)
        .values_list("id", flat=True)
        .first()
    )
    if duplicate is not None:
        raise PermanentJobError(
            f"the page's content is already document {duplicate} of the collection"
        )
    progress(EXTRACT_AT, 100, f"Extracting text from {url}...")
    try:
        extraction = extract(
            body, filename=document.filename, limits=extraction_limits()
        )
    except ExtractionError as error:
        raise PermanentJobError(str(error)) from None
    _store_page(document, body, sha256, extraction)
    return _index(document, extraction, progress)


def _fetch(url: str) -> bytes:
    try:
        response = guarded_get(
            url,
            max_bytes=settings.DOCUMENTS_WEBPAGE_MAX_BYTES,
            timeout_s=settings.DOCUMENTS_WEBPAGE_TIMEOUT_S,
            content_types=WEBPAGE_TYPES,
            allowed_networks=settings.DOCUMENTS_OUTBOUND_ALLOWED_NETWORKS,
        )
    except OutboundError as error:
        if error.is_transient:
            raise PageUnavailable(f"{url} could not be fetched: {error}") from None
        raise PermanentJobError(f"{url} is not fetched: {error}") from None
    if response.status in _TRANSIENT_HTTP:
        raise PageUnavailable(f"{url} answered HTTP {response.status}")
    if not response.ok:
        raise PermanentJobError(f"{url} answered HTTP {response.status}")
    if not response.body:
        raise PermanentJobError(f"{url} answered with an empty page")
    return response.body


def _store_page(
    document: Document, body: bytes, sha256: str, extraction: Extraction
) -> None:
    """Keep the fetched bytes as the document's original (replacing an earlier fetch)."""
    suffix = "txt" if extraction.kind.is_plain_text else "html"
    previous = document.original.name
    document.original.save(f"page.{suffix}", ContentFile(body), save=False)
    try:
        with transaction.atomic():
            Document.objects.filter(id=document.id).update(
                original=document.original.name,
                sha256=sha256,
                size_bytes=len(body),
                kind=extraction.kind.value,
            )
    except IntegrityError:
        delete_quietly(document.original.name)
        raise PermanentJobError(
            "the page's content is already a document of the collection"
        ) from None
    if previous and previous != document.original.name:
        delete_quietly(previous)


def _index(document: Document, extraction: Extraction, progress: Progress) -> dict:
    name = document.filename
    progress(CHUNK_AT, 100, f"Splitting {name} into chunks...")
    pieces = chunking.chunk_pages(
        extraction.pages,
        size=settings.DOCUMENTS_CHUNK_SIZE,
        overlap=settings.DOCUMENTS_CHUNK_OVERLAP,
    )
    progress(INDEX_AT, 100, f"Indexing {len(pieces)} chunks of {name}...")
    vectors = _embeddings([piece.text for piece in pieces], name)
    config = document.collection.search_language
    with transaction.atomic():
        if not Document.objects.select_for_update().filter(id=document.id).exists():
            raise Document.DoesNotExist(f"document {document.id} was deleted")
        Chunk.objects.filter(document_id=document.id).delete()
        Chunk.objects.bulk_create(
            [
                Chunk(
                    document_id=document.id,
                    order=piece.order,
                    text=piece.text,
                    page_number=piece.page_number,
                    start_offset=piece.start,
                    end_offset=piece.end,
                    search_config=config,
                    embedding=embeddings.to_bytes(vectors[index]) if vectors else None,
                )
                for index, piece in enumerate(pieces)
            ],
            batch_size=500,
        )
        fields = {
            "kind": extraction.kind.value,
            "title": extraction.title[:300],
            "language": extraction.language or "",
            "encoding": extraction.encoding or "",
            "page_count": extraction.page_count,
            "ocr_page_count": extraction.ocr_page_count,
            "chunk_count": len(pieces),
            "status": Document.Status.COMPLETED,
            "error": "",
            "processed_at": timezone.now(),
        }
        Document.objects.filter(id=document.id).update(
            **fields, updated_at=timezone.now()
        )
        for field, value in fields.items():
            setattr(document, field, value)
        webhook_notify(
            owner_id=document.collection.owner_id,
            event="document.completed",
            payload=document_event_payload(document),
        )
    progress(DONE_AT, 100, f"Processed {name}: {len(pieces)} chunks")
    return {
        "document_id": document.id,
        "chunk_count": len(pieces),
        "page_count": extraction.page_count,
        "ocr_page_count": extraction.ocr_page_count,
        "kind": extraction.kind.value,
        "language": extraction.language,
        "embedded": bool(vectors),
    }


def _embeddings(texts: list[str], name: str) -> list | None:
    """Vectors for the chunks when an endpoint is configured; None (logged) when it fails."""
    if not settings.DOCUMENTS_EMBEDDINGS_API_URL or not texts:
        return None
    batch = max(1, settings.DOCUMENTS_EMBEDDINGS_BATCH_SIZE)
    vectors = []
    try:
        for start in range(0, len(texts), batch):
            vectors.extend(
                embeddings.embed(
                    texts[start : start + batch],
                    base_url=settings.DOCUMENTS_EMBEDDINGS_API_URL,
                    api_key=settings.DOCUMENTS_EMBEDDINGS_API_KEY,
                    model=settings.DOCUMENTS_EMBEDDINGS_MODEL,
                    timeout_s=settings.DOCUMENTS_EMBEDDINGS_TIMEOUT_S,
                )
            )
    except embeddings.EmbeddingsError as error:
        logger.warning("embeddings_unavailable document=%s error=%s", name, error)
        return None
    return vectors
