"""Reads of collections, documents and chunks."""

from typing import Any

from django.db.models import BooleanField
from django.db.models import Count
from django.db.models import ExpressionWrapper
from django.db.models import Q
from django.db.models import QuerySet

from documents.models import Chunk
from documents.models import Collection
from documents.models import Document
from documents.selectors.visibility import visible
from jobs import selectors as job_selectors
from jobs.models import ProcessingJob

PROCESS_JOB_TYPE = "documents.process"
WEBPAGE_JOB_TYPE = "documents.webpage"
JOB_TYPES = (PROCESS_JOB_TYPE, WEBPAGE_JOB_TYPE)


def collection_list(*, user: Any = None) -> QuerySet[Collection]:
    """Collections the user may see, by name, with their owner and document counts."""
    collections = (
        Collection.objects.select_related("owner")
        .annotate(document_count=Count("documents"))
        .order_by("name", "id")
    )
    return visible(collections, user=user, owner_path="owner")


def collection_get(*, collection_id: Any, user: Any = None) -> Collection:
    """One visible collection; Collection.DoesNotExist otherwise (also for a malformed id)."""
    try:
        collection_id = int(collection_id)
    except (TypeError, ValueError):
        raise Collection.DoesNotExist(f"no collection {collection_id!r}") from None
    collections = Collection.objects.select_related("owner")
    return visible(collections, user=user, owner_path="owner").get(id=collection_id)


def _has_active_job() -> ExpressionWrapper:
    exists = [
        job_selectors.job_active_for_each_target(model=Document, job_type=job_type)
        for job_type in JOB_TYPES
    ]
    return ExpressionWrapper(Q(exists[0]) | Q(exists[1]), output_field=BooleanField())


def document_list(*, user: Any = None) -> QuerySet[Document]:
    """Documents the user may see, newest first, with collection and owner loaded.

    Each carries `has_active_job` (a processing job queued or running): a
    queued or processing document without one was cancelled.
    """
    documents = Document.objects.select_related(
        "collection", "collection__owner"
    ).annotate(has_active_job=_has_active_job())
    return visible(documents, user=user, owner_path="collection__owner")


def document_get(*, document_id: Any, user: Any = None) -> Document:
    """One visible document; Document.DoesNotExist otherwise (also for a malformed id)."""
    try:
        document_id = int(document_id)
    except (TypeError, ValueError):
        raise Document.DoesNotExist(f"no document {document_id!r}") from None
    return document_list(user=user).get(id=document_id)


def document_status(document: Document) -> str:
    """The status to show: a queued or processing document whose job is gone was cancelled."""
    active = getattr(document, "has_active_job", None)
    if active is False and document.status in (
        Document.Status.QUEUED,
        Document.Status.PROCESSING,
    ):
        return Document.Status.CANCELLED
    return document.status


def document_active_job(*, document: Document) -> ProcessingJob | None:
    """The document's processing job that is queued, retrying or running, if any."""
    for job_type in JOB_TYPES:
        job = job_selectors.job_latest_for_target(
            target=document, job_type=job_type, statuses=ProcessingJob.ACTIVE_STATUSES
        )
        if job is not None:
            return job
    return None


def document_latest_job(*, document: Document) -> ProcessingJob | None:
    """The document's most recently queued processing job (any status)."""
    jobs = [
        job_selectors.job_latest_for_target(target=document, job_type=job_type)
        for job_type in JOB_TYPES
    ]
    jobs = [job for job in jobs if job is not None]
    return max(jobs, key=lambda job: job.queued_at) if jobs else None


def chunk_list(*, document: Document) -> QuerySet[Chunk]:
    """A document's chunks in order (without their embeddings)."""
    return Chunk.objects.filter(document=document).defer("embedding").order_by("order")
