"""Selectors: visibility in one place, and a fixed number of queries whatever the rows."""

import pytest

from documents import selectors
from documents.models import Document
from documents.tests.factories import ChunkFactory
from documents.tests.factories import CollectionFactory
from documents.tests.factories import DocumentFactory
from documents.tests.factories import ReceiptFactory
from documents.tests.factories import ReceiptLineItemFactory

pytestmark = pytest.mark.django_db


def test_document_list_loads_collections_and_job_state_in_one_query(
    user, django_assert_num_queries
):
    for _ in range(4):
        DocumentFactory(collection__owner=user)
    with django_assert_num_queries(1):
        documents = list(selectors.document_list(user=user))
        assert [doc.collection.owner_id for doc in documents] == [user.pk] * 4
        assert {selectors.document_status(doc) for doc in documents} == {"completed"}


def test_a_queued_document_without_a_job_shows_as_cancelled(user):
    DocumentFactory(collection__owner=user, status=Document.Status.QUEUED)
    (document,) = selectors.document_list(user=user)
    assert selectors.document_status(document) == "cancelled"


def test_receipt_list_loads_line_items_in_two_queries(user, django_assert_num_queries):
    for _ in range(3):
        ReceiptLineItemFactory.create_batch(2, receipt=ReceiptFactory(owner=user))
    with django_assert_num_queries(2):
        receipts = list(selectors.receipt_list(user=user))
        assert [len(receipt.line_items.all()) for receipt in receipts] == [2, 2, 2]


def test_collection_list_counts_documents_per_collection(user, other_user):
    mine = CollectionFactory(owner=user)
    DocumentFactory.create_batch(3, collection=mine)
    CollectionFactory(owner=other_user)
    (listed,) = selectors.collection_list(user=user)
    assert (listed.pk, listed.document_count) == (mine.pk, 3)


def test_search_takes_two_queries_whatever_the_hits(user, django_assert_num_queries):
    collection = CollectionFactory(owner=user)
    for _ in range(5):
        ChunkFactory(document=DocumentFactory(collection=collection))
    with django_assert_num_queries(2):  # the languages in scope, then the search
        results = selectors.chunk_search(query="pallets", user=user)
    assert len(results.hits) == 5


def test_internal_callers_see_everything(user, other_user):
    DocumentFactory(collection__owner=user)
    DocumentFactory(collection__owner=other_user)
    assert selectors.document_list(user=None).count() == 2
