"""Give chunks their collection's search language again (one collection, or all)."""

from django.core.management.base import BaseCommand

from documents import services
from documents.models import Collection


class Command(BaseCommand):
    help = (
        "Re-index chunks in their collection's search language (--collection, or all)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--collection", type=int)

    def handle(self, *args, collection: int | None, **options):
        ids = (
            [collection]
            if collection
            else Collection.objects.values_list("id", flat=True)
        )
        for collection_id in ids:
            result = services.collection_reindex(collection_id=collection_id)
            self.stdout.write(
                f"collection {collection_id}: {result['chunks_reindexed']} chunks re-indexed"
            )
