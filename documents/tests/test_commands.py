"""The operators' commands: import, reprocess, search, reindex, receipts OCR."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from documents.models import Document
from documents.models import Receipt
from documents.tests import samples
from documents.tests.factories import ChunkFactory
from documents.tests.factories import DocumentFactory
from documents.tests.factories import ReceiptFactory
from jobs.models import ProcessingJob

pytestmark = pytest.mark.django_db


def test_import_adds_files_and_reports_refusals(collection, tmp_path, capsys):
    good = tmp_path / "report.pdf"
    good.write_bytes(samples.text_pdf(["Imported from the shell."]))
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="1 file"):
        call_command("documents_import", str(collection.pk), str(good), str(empty))
    out = capsys.readouterr()
    assert "report.pdf: document" in out.out
    assert "empty.txt: the file is empty" in out.err
    assert Document.objects.get().filename == "report.pdf"


def test_reprocess_failed_documents(collection, capsys):
    DocumentFactory(collection=collection, status="failed")
    DocumentFactory(collection=collection, status="completed")
    call_command("documents_reprocess", "--failed")
    assert "1 document(s) queued" in capsys.readouterr().out
    assert ProcessingJob.objects.filter(job_type="documents.process").count() == 1
    with pytest.raises(CommandError):
        call_command("documents_reprocess")


def test_search_and_reindex(collection, capsys):
    ChunkFactory(document=DocumentFactory(collection=collection), text="Compost heap.")
    call_command("documents_search", "compost")
    assert "Compost heap." in capsys.readouterr().out
    call_command("documents_reindex", "--collection", str(collection.pk))
    assert "0 chunks re-indexed" in capsys.readouterr().out


def test_receipts_ocr_actions(user, capsys):
    ReceiptFactory(owner=user)
    ReceiptFactory(owner=user, status="failed")
    call_command("documents_receipts_ocr", "process-all", "--user", user.username)
    assert "1 receipt(s) queued" in capsys.readouterr().out
    call_command("documents_receipts_ocr", "clear-failed", "--user", user.username)
    assert Receipt.objects.filter(status="failed").count() == 0
    call_command("documents_receipts_ocr", "status")
    assert "'count': 1" in capsys.readouterr().out
    with pytest.raises(CommandError, match="needs --user"):
        call_command("documents_receipts_ocr", "process-all")
