"""Text extraction from uploaded documents: plain functions on bytes, no Django.

    extraction = extract(data, filename="report.pdf", limits=Limits(max_pages=500),
                         on_progress=lambda stage, done, total: ...)

Refusals are ExtractionError subclasses carrying `code` and `http_status`.
"""

from documents.extraction.errors import ArchiveBomb
from documents.extraction.errors import CorruptDocument
from documents.extraction.errors import EmptyDocument
from documents.extraction.errors import EncryptedDocument
from documents.extraction.errors import ExtractionError
from documents.extraction.errors import ExtractionTimeout
from documents.extraction.errors import LimitExceeded
from documents.extraction.errors import NoTextFound
from documents.extraction.errors import ResourceLimitExceeded
from documents.extraction.errors import TooLarge
from documents.extraction.errors import TooManyPages
from documents.extraction.errors import UnsupportedType
from documents.extraction.language import guess_language
from documents.extraction.ocr import OcrLine
from documents.extraction.ocr import warm_up
from documents.extraction.pipeline import extract
from documents.extraction.results import DEFAULT_LIMITS
from documents.extraction.results import DocumentKind
from documents.extraction.results import Extraction
from documents.extraction.results import Limits
from documents.extraction.results import Page
from documents.extraction.results import ProgressCallback
from documents.extraction.sniffing import sniff
from documents.extraction.sniffing import sniff_file

__all__ = [
    "DEFAULT_LIMITS",
    "ArchiveBomb",
    "CorruptDocument",
    "DocumentKind",
    "EmptyDocument",
    "EncryptedDocument",
    "Extraction",
    "ExtractionError",
    "ExtractionTimeout",
    "LimitExceeded",
    "Limits",
    "NoTextFound",
    "OcrLine",
    "Page",
    "ProgressCallback",
    "ResourceLimitExceeded",
    "TooLarge",
    "TooManyPages",
    "UnsupportedType",
    "extract",
    "guess_language",
    "sniff",
    "sniff_file",
    "warm_up",
]
