"""Factories of the documents app's rows (no files: names only)."""

import datetime
import hashlib
import uuid
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType

from documents.models import Chunk
from documents.models import Collection
from documents.models import Document
from documents.models import Receipt
from documents.models import ReceiptLineItem
from documents.models import WebhookDelivery
from documents.models import WebhookEndpoint


class _WarmContentTypeMixin:
    """Loads the model's content type when a row is made.

    The list endpoints annotate each row with "has an active job", which
    reads the content type once per process; counting queries would
    otherwise see that one-off read as growth.
    """

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        ContentType.objects.get_for_model(model_class)
        return super()._create(model_class, *args, **kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"reader{n}")


class CollectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collection

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"collection {n}")
    search_language = "english"


class DocumentFactory(_WarmContentTypeMixin, factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    collection = factory.SubFactory(CollectionFactory)
    original = factory.Sequence(lambda n: f"documents/factory/{n}.pdf")
    filename = factory.Sequence(lambda n: f"report-{n}.pdf")
    kind = Document.Kind.PDF
    size_bytes = 2048
    sha256 = factory.Sequence(lambda n: hashlib.sha256(f"doc{n}".encode()).hexdigest())
    status = Document.Status.COMPLETED
    page_count = 1
    chunk_count = 1


class ChunkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Chunk

    document = factory.SubFactory(DocumentFactory)
    order = factory.Sequence(lambda n: n)
    text = "The warehouse shipped pallets to customers in the northern region."
    page_number = 1
    start_offset = 0
    end_offset = factory.LazyAttribute(lambda chunk: len(chunk.text))
    search_config = factory.LazyAttribute(
        lambda chunk: chunk.document.collection.search_language
    )


class ReceiptFactory(_WarmContentTypeMixin, factory.django.DjangoModelFactory):
    class Meta:
        model = Receipt

    owner = factory.SubFactory(UserFactory)
    image = factory.Sequence(lambda n: f"receipts/factory/{n}.jpg")
    filename = "receipt.jpg"
    purchase_date = datetime.date(2025, 3, 14)
    status = Receipt.Status.PENDING


class ReceiptLineItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReceiptLineItem

    receipt = factory.SubFactory(ReceiptFactory)
    order = factory.Sequence(lambda n: n)
    name = "Bread"
    quantity = Decimal("1")
    price = Decimal("2.49")


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    owner = factory.SubFactory(UserFactory)
    url = "https://hooks.example.com/mediaqueue"
    secret = factory.Sequence(lambda n: f"whsec_factory_{n}")


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    owner = factory.LazyAttribute(lambda delivery: delivery.endpoint.owner)
    event = "document.completed"
    event_id = factory.LazyFunction(uuid.uuid4)
    url = factory.LazyAttribute(lambda delivery: delivery.endpoint.url)
    attempt = 1
    outcome = WebhookDelivery.Outcome.DELIVERED
    response_status = 200
