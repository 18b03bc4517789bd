"""Collections (knowledge bases): create, rename, change their search language, delete."""

from typing import Any

from django.db import transaction

from documents.models import Chunk
from documents.models import Collection
from documents.models import Document
from jobs import services as job_services
from jobs.files import delete_quietly

REINDEX_JOB_TYPE = "documents.reindex_collection"


def collection_create(
    *,
    owner: Any,
    name: str,
    description: str = "",
    search_language: str | None = None,
) -> Collection:
    """Create a collection for `owner`; ValidationError for a name the owner already uses."""
    collection = Collection(owner=owner, name=name.strip(), description=description)
    if search_language:
        collection.search_language = search_language
    collection.full_clean()
    collection.save()
    return collection


@transaction.atomic
def collection_update(
    *,
    collection: Collection,
    name: str | None = None,
    description: str | None = None,
    search_language: str | None = None,
    updated_by: Any = None,
) -> Collection:
    """Change a collection; a new search language queues the re-indexing of its chunks."""
    collection = Collection.objects.select_for_update().get(pk=collection.pk)
    language_changed = bool(
        search_language and search_language != collection.search_language
    )
    if name is not None:
        collection.name = name.strip()
    if description is not None:
        collection.description = description
    if search_language:
        collection.search_language = search_language
    collection.full_clean()
    collection.save()
    if language_changed:
        job_services.job_submit(
            job_type=REINDEX_JOB_TYPE, target=collection, submitted_by=updated_by
        )
    return collection


def collection_reindex(*, collection_id: int) -> dict:
    """Give every chunk of the collection its current search language (the database re-indexes them).

    Idempotent: chunks already in that language are left alone.
    """
    collection = Collection.objects.get(id=collection_id)
    updated = (
        Chunk.objects.filter(document__collection_id=collection_id)
        .exclude(search_config=collection.search_language)
        .update(search_config=collection.search_language)
    )
    return {"collection_id": collection_id, "chunks_reindexed": updated}


def collection_delete(*, collection: Collection) -> None:
    """Delete a collection with its documents, chunks and stored files (files after commit)."""
    names = [
        name
        for name in Document.objects.filter(collection=collection).values_list(
            "original", flat=True
        )
        if name
    ]
    with transaction.atomic():
        collection.delete()
        transaction.on_commit(lambda: [delete_quietly(name) for name in names])
