"""Search the chunks of every collection (or one) from the shell, best first."""

from django.core.management.base import BaseCommand

from documents import selectors


class Command(BaseCommand):
    help = 'Full-text search: documents_search "compost heap" [--collection 3] [--limit 10]'

    def add_arguments(self, parser):
        parser.add_argument("query")
        parser.add_argument("--collection", type=int)
        parser.add_argument("--limit", type=int, default=10)

    def handle(self, *args, query: str, collection: int | None, limit: int, **options):
        results = selectors.chunk_search(
            query=query, user=None, collection_id=collection, limit=limit
        )
        for hit in results.hits:
            self.stdout.write(
                f"{hit.score:9.4f}  doc {hit.document_id} p.{hit.page_number}  "
                f"{hit.document_title[:40]}: {hit.text[:100]!r}"
            )
        if not results.hits:
            self.stdout.write("no match")
