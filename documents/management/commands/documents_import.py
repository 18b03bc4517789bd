"""Add local files to a collection and queue their processing: `documents_import 3 a.pdf b.docx`."""

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from documents import selectors
from documents import services
from documents.errors import DocumentsError
from documents.extraction import ExtractionError
from documents.models import Collection


class Command(BaseCommand):
    help = "Add files to a collection (by id) and queue their processing."

    def add_arguments(self, parser):
        parser.add_argument("collection_id", type=int)
        parser.add_argument("paths", nargs="+", type=Path)

    def handle(self, *args, collection_id: int, paths: list[Path], **options):
        try:
            collection = selectors.collection_get(collection_id=collection_id)
        except Collection.DoesNotExist:
            raise CommandError(f"no collection {collection_id}") from None
        failures = 0
        for path in paths:
            if not path.is_file():
                self.stderr.write(f"{path}: not a file")
                failures += 1
                continue
            with path.open("rb") as handle:
                try:
                    submission = services.document_upload(
                        collection=collection,
                        upload=File(handle, name=path.name),
                        uploaded_by=collection.owner,
                    )
                except (DocumentsError, ExtractionError) as error:
                    self.stderr.write(f"{path}: {error}")
                    failures += 1
                    continue
            self.stdout.write(
                f"{path}: document {submission.document.id}, task {submission.job.task_id}"
            )
        if failures:
            raise CommandError(f"{failures} file(s) not added")
