"""Queue documents for processing again: by id, every failed one, or a whole collection."""

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from documents import selectors
from documents import services
from documents.errors import DocumentsError


class Command(BaseCommand):
    help = "Queue documents for processing again (ids, --failed, --collection)."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int)
        parser.add_argument(
            "--failed", action="store_true", help="every failed document"
        )
        parser.add_argument("--collection", type=int, help="every document of it")

    def handle(
        self, *args, ids: list[int], failed: bool, collection: int | None, **options
    ):
        if not ids and not failed and collection is None:
            raise CommandError("give document ids, --failed or --collection")
        documents = selectors.document_list()
        if ids:
            documents = documents.filter(id__in=ids)
        if failed:
            documents = documents.filter(status="failed")
        if collection is not None:
            documents = documents.filter(collection_id=collection)
        queued = 0
        for document in documents:
            try:
                services.document_reprocess(document=document)
                queued += 1
            except DocumentsError as error:
                self.stderr.write(f"document {document.id}: {error}")
        self.stdout.write(f"{queued} document(s) queued")
