"""Every write of the documents app. Import from here: `from documents import services`."""

from documents.services.collections import REINDEX_JOB_TYPE
from documents.services.collections import collection_create
from documents.services.collections import collection_delete
from documents.services.collections import collection_reindex
from documents.services.collections import collection_update
from documents.services.documents import PROCESS_JOB_TYPE
from documents.services.documents import WEBPAGE_JOB_TYPE
from documents.services.documents import DocumentSubmission
from documents.services.documents import clean_filename
from documents.services.documents import document_delete
from documents.services.documents import document_event_payload
from documents.services.documents import document_mark_cancelled
from documents.services.documents import document_mark_failed
from documents.services.documents import document_reprocess
from documents.services.documents import document_submit_url
from documents.services.documents import document_upload
from documents.services.documents import document_url_check
from documents.services.documents import documents_delete
from documents.services.limits import extraction_limits
from documents.services.processing import document_process
from documents.services.processing import document_webpage_process
from documents.services.receipts import OCR_JOB_TYPE
from documents.services.receipts import receipt_create
from documents.services.receipts import receipt_delete
from documents.services.receipts import receipt_mark_failed
from documents.services.receipts import receipt_ocr_key
from documents.services.receipts import receipt_ocr_run
from documents.services.receipts import receipt_ocr_submit
from documents.services.receipts import receipts_clear_failed
from documents.services.receipts import receipts_ocr_process_all
from documents.services.webhooks import WEBHOOK_JOB_TYPE
from documents.services.webhooks import webhook_deliver
from documents.services.webhooks import webhook_endpoint_delete
from documents.services.webhooks import webhook_endpoint_rotate_secret
from documents.services.webhooks import webhook_endpoint_set
from documents.services.webhooks import webhook_endpoint_update
from documents.services.webhooks import webhook_notify
from documents.services.webhooks import webhook_send_test
from documents.services.webhooks import webhook_url_check

__all__ = [
    "DocumentSubmission",
    "OCR_JOB_TYPE",
    "PROCESS_JOB_TYPE",
    "REINDEX_JOB_TYPE",
    "WEBHOOK_JOB_TYPE",
    "WEBPAGE_JOB_TYPE",
    "clean_filename",
    "collection_create",
    "collection_delete",
    "collection_reindex",
    "collection_update",
    "document_delete",
    "document_event_payload",
    "document_mark_cancelled",
    "document_mark_failed",
    "document_process",
    "document_reprocess",
    "document_submit_url",
    "document_upload",
    "document_url_check",
    "document_webpage_process",
    "documents_delete",
    "extraction_limits",
    "receipt_create",
    "receipt_delete",
    "receipt_mark_failed",
    "receipt_ocr_key",
    "receipt_ocr_run",
    "receipt_ocr_submit",
    "receipts_clear_failed",
    "receipts_ocr_process_all",
    "webhook_deliver",
    "webhook_endpoint_delete",
    "webhook_endpoint_rotate_secret",
    "webhook_endpoint_set",
    "webhook_endpoint_update",
    "webhook_notify",
    "webhook_send_test",
    "webhook_url_check",
]
