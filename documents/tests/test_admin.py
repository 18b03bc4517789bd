"""Admin actions call the services."""

import pytest
from django.urls import reverse

from documents.tests.factories import DocumentFactory
from documents.tests.factories import ReceiptFactory
from documents.tests.factories import WebhookDeliveryFactory
from jobs.models import ProcessingJob

pytestmark = pytest.mark.django_db


def test_reprocess_action_queues_the_documents(admin_client):
    documents = DocumentFactory.create_batch(2, status="failed")
    response = admin_client.post(
        reverse("admin:documents_document_changelist"),
        {"action": "reprocess", "_selected_action": [doc.pk for doc in documents]},
        follow=True,
    )
    assert response.status_code == 200
    assert ProcessingJob.objects.filter(job_type="documents.process").count() == 2


def test_receipt_actions_queue_ocr_and_clear_failures(admin_client):
    receipt = ReceiptFactory(status="failed")
    url = reverse("admin:documents_receipt_changelist")
    admin_client.post(url, {"action": "clear_failed", "_selected_action": [receipt.pk]})
    receipt.refresh_from_db()
    assert receipt.status == "pending"
    admin_client.post(url, {"action": "run_ocr", "_selected_action": [receipt.pk]})
    assert ProcessingJob.objects.get().idempotency_key == f"ocr-{receipt.pk}"


def test_document_and_delivery_pages_render(admin_client):
    document = DocumentFactory()
    delivery = WebhookDeliveryFactory()
    for url in (
        reverse("admin:documents_document_change", args=[document.pk]),
        reverse("admin:documents_webhookdelivery_change", args=[delivery.pk]),
    ):
        assert admin_client.get(url).status_code == 200
