"""The extraction limits of this deployment, from settings."""

from django.conf import settings

from documents.extraction import Limits

MIB = 1024 * 1024


def extraction_limits() -> Limits:
    """Limits for one document, as configured (DOCUMENTS_* settings)."""
    return Limits(
        max_bytes=settings.DOCUMENTS_MAX_UPLOAD_BYTES,
        max_pages=settings.DOCUMENTS_MAX_PAGES,
        max_ocr_pages=settings.DOCUMENTS_MAX_OCR_PAGES,
        memory_bytes=settings.DOCUMENTS_PARSER_MEMORY_MB * MIB,
        time_limit_s=settings.DOCUMENTS_EXTRACTION_TIME_LIMIT_S,
        ocr_dpi=settings.DOCUMENTS_OCR_DPI,
    )
