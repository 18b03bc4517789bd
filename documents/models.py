"""Collections of documents, their chunks for search, receipts, and completion webhooks.

Full-text search lives in the database, next to the chunks, and is kept up
to date by the database itself (migrations 0002 and 0003): on PostgreSQL a
`search_vector` tsvector column of `documents_chunk`, filled by a trigger
from `text` and `search_config`, stored inline (lz4) and indexed with GIN;
on SQLite an FTS5 table `documents_chunk_fts` over `text`, kept in step by
triggers. Neither is a model field: no query of the ORM ever loads them.
(A later migration that makes SQLite rebuild `documents_chunk` drops its
triggers: recreate them there.)
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


def _default_search_language() -> str:
    return settings.DOCUMENTS_DEFAULT_SEARCH_LANGUAGE


class Collection(models.Model):
    """A named knowledge base with an owner (the original system's "agent")."""

    class SearchLanguage(models.TextChoices):
        # PostgreSQL text search configurations: stemming and stop words.
        SIMPLE = "simple", "No stemming (any language)"
        ENGLISH = "english", "English"
        GERMAN = "german", "German"
        FRENCH = "french", "French"
        SPANISH = "spanish", "Spanish"
        ITALIAN = "italian", "Italian"
        DUTCH = "dutch", "Dutch"
        PORTUGUESE = "portuguese", "Portuguese"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="document_collections",
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    search_language = models.CharField(
        max_length=16,
        choices=SearchLanguage.choices,
        default=_default_search_language,
        help_text="Text search configuration of its chunks (PostgreSQL).",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], name="documents_collection_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


def document_original_path(document: "Document", filename: str) -> str:
    """Where an original is stored: by collection and a random name, never the client's."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    suffix = "".join(char for char in suffix if char.isalnum())[:8] or "bin"
    return f"documents/{document.collection_id}/{uuid.uuid4().hex}.{suffix}"


class Document(models.Model):
    """An uploaded file or a fetched web page, its text metadata and processing state."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Kind(models.TextChoices):
        PDF = "pdf", "PDF"
        DOCX = "docx", "Word (DOCX)"
        TEXT = "text", "Plain text"
        MARKDOWN = "markdown", "Markdown"
        CSV = "csv", "CSV"
        HTML = "html", "HTML"
        JPEG = "jpeg", "JPEG image"
        PNG = "png", "PNG image"

    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, related_name="documents"
    )
    original = models.FileField(
        upload_to=document_original_path, max_length=255, blank=True
    )
    filename = models.CharField(max_length=255, help_text="The name it was sent with.")
    source_url = models.URLField(max_length=2000, blank=True, default="")
    kind = models.CharField(max_length=16, choices=Kind.choices, blank=True, default="")
    size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    title = models.CharField(max_length=300, blank=True, default="")
    language = models.CharField(
        max_length=8, blank=True, default="", help_text="ISO 639-1, when recognised."
    )
    encoding = models.CharField(max_length=32, blank=True, default="")
    page_count = models.PositiveIntegerField(default=0)
    ocr_page_count = models.PositiveIntegerField(default=0)
    chunk_count = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["collection", "-created_at"], name="documents_doc_coll_idx"
            ),
            models.Index(fields=["status"], name="documents_doc_status_idx"),
        ]
        constraints = [
            # The same bytes once per collection; pages not yet fetched
            # have no hash.
            models.UniqueConstraint(
                fields=["collection", "sha256"],
                condition=~Q(sha256=""),
                name="documents_document_unique_sha256",
            ),
            models.CheckConstraint(
                condition=~Q(original="") | ~Q(source_url=""),
                name="documents_document_has_source",
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.filename


class Chunk(models.Model):
    """A piece of a document's text, on one page, at `text == page[start:end]`."""

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="chunks"
    )
    order = models.PositiveIntegerField()
    text = models.TextField()
    page_number = models.PositiveIntegerField()
    start_offset = models.PositiveIntegerField()
    end_offset = models.PositiveIntegerField()
    # The collection's configuration when the chunk was indexed; the
    # PostgreSQL trigger builds search_vector with it.
    search_config = models.CharField(max_length=16, default="english")
    # float32 values of the optional embeddings endpoint, little-endian.
    embedding = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["document", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "order"], name="documents_chunk_unique_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.order} (page {self.page_number})"


def receipt_image_path(receipt: "Receipt", filename: str) -> str:
    suffix = "png" if filename.lower().endswith(".png") else "jpg"
    return f"receipts/{receipt.owner_id}/{uuid.uuid4().hex}.{suffix}"


class Receipt(models.Model):
    """A receipt photo or scan and the fields OCR read from it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        RETRYING = "retrying", "Waiting to retry"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="receipts"
    )
    image = models.FileField(upload_to=receipt_image_path, max_length=255)
    filename = models.CharField(max_length=255, blank=True, default="")
    size_bytes = models.PositiveBigIntegerField(default=0)
    purchase_date = models.DateField(help_text="As the uploader gave it.")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    ocr_text = models.TextField(blank=True, default="")
    merchant = models.CharField(max_length=200, blank=True, default="")
    receipt_date = models.DateField(
        null=True, blank=True, help_text="The date printed on the receipt."
    )
    total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    subtotal = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    tax = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    confidence = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
    )
    ocr_score = models.FloatField(null=True, blank=True)
    rotation = models.PositiveSmallIntegerField(default=0)
    # How many times OCR was queued: later runs of a receipt read before
    # need an idempotency key of their own (see services.receipts).
    ocr_runs = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "status"], name="documents_rcpt_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"receipt {self.pk} ({self.merchant or self.status})"


class ReceiptLineItem(models.Model):
    """One bought item of a receipt, as OCR read it."""

    receipt = models.ForeignKey(
        Receipt, on_delete=models.CASCADE, related_name="line_items"
    )
    order = models.PositiveIntegerField()
    name = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=10, decimal_places=3)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    unit_price = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["receipt", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["receipt", "order"], name="documents_item_unique_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name} {self.price}"


class WebhookEndpoint(models.Model):
    """Where an owner's completion events are POSTed, signed with `secret`."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="documents_webhook",
    )
    url = models.URLField(max_length=2000)
    # Kept in clear: signing needs it. Shown to its owner once, when made.
    secret = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One attempt to deliver one event: what was sent where, and how it went."""

    class Outcome(models.TextChoices):
        DELIVERED = "delivered", "Delivered"
        RETRYING = "retrying", "Failed, will retry"
        FAILED = "failed", "Failed for good"

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="documents_webhook_deliveries",
    )
    event = models.CharField(max_length=64)
    event_id = models.UUIDField()
    url = models.CharField(max_length=2000)
    attempt = models.PositiveIntegerField()
    job_id = models.UUIDField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["owner", "-created_at"], name="documents_hook_own_idx"
            ),
            models.Index(fields=["event_id"], name="documents_hook_event_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.attempt} -> {self.url} ({self.outcome})"
