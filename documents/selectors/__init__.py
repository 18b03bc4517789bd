"""Every read of the documents app; `user=` decides visibility (staff all, others their own).

Import from here: `from documents import selectors`.
"""

from documents.selectors.documents import chunk_list
from documents.selectors.documents import collection_get
from documents.selectors.documents import collection_list
from documents.selectors.documents import document_active_job
from documents.selectors.documents import document_get
from documents.selectors.documents import document_latest_job
from documents.selectors.documents import document_list
from documents.selectors.documents import document_status
from documents.selectors.receipts import receipt_active_job
from documents.selectors.receipts import receipt_get
from documents.selectors.receipts import receipt_list
from documents.selectors.receipts import receipt_list_owned
from documents.selectors.receipts import receipt_list_unqueued
from documents.selectors.receipts import receipt_ocr_counts
from documents.selectors.receipts import receipt_ocr_job
from documents.selectors.receipts import receipt_status
from documents.selectors.receipts import user_get
from documents.selectors.search import SearchHit
from documents.selectors.search import SearchResults
from documents.selectors.search import chunk_search
from documents.selectors.search import fts5_query
from documents.selectors.search import highlight_html
from documents.selectors.visibility import visible
from documents.selectors.webhooks import webhook_delivery_list
from documents.selectors.webhooks import webhook_endpoint_get
from documents.selectors.webhooks import webhook_endpoint_list

__all__ = [
    "SearchHit",
    "SearchResults",
    "chunk_list",
    "chunk_search",
    "collection_get",
    "collection_list",
    "document_active_job",
    "document_get",
    "document_latest_job",
    "document_list",
    "document_status",
    "fts5_query",
    "highlight_html",
    "receipt_active_job",
    "receipt_get",
    "receipt_list",
    "receipt_list_owned",
    "receipt_list_unqueued",
    "receipt_ocr_counts",
    "receipt_ocr_job",
    "receipt_status",
    "user_get",
    "visible",
    "webhook_delivery_list",
    "webhook_endpoint_get",
    "webhook_endpoint_list",
]
