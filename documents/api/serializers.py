"""Input validation and output shape of the documents API (shape only: no writes)."""

import datetime

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from documents import selectors
from documents.models import Collection
from documents.models import Document
from documents.models import Receipt
from documents.models import ReceiptLineItem
from documents.models import WebhookDelivery
from documents.models import WebhookEndpoint
from inputs.fields import RowIdField

# COLLECTIONS ----------------------------------------------------------------


class CollectionSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    document_count = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = Collection
        fields = [
            "id",
            "name",
            "description",
            "search_language",
            "owner",
            "document_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CollectionCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    search_language = serializers.ChoiceField(
        choices=Collection.SearchLanguage.choices, required=False
    )


class CollectionUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    search_language = serializers.ChoiceField(
        choices=Collection.SearchLanguage.choices, required=False
    )


# DOCUMENTS ------------------------------------------------------------------


class DocumentSerializer(serializers.ModelSerializer):
    collection_name = serializers.CharField(source="collection.name", read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "collection",
            "collection_name",
            "filename",
            "source_url",
            "kind",
            "size_bytes",
            "sha256",
            "title",
            "language",
            "encoding",
            "page_count",
            "ocr_page_count",
            "chunk_count",
            "status",
            "error",
            "created_at",
            "processed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Document.Status.choices))
    def get_status(self, document: Document) -> str:
        return selectors.document_status(document)


class DocumentQueuedSerializer(DocumentSerializer):
    """A document just queued, with the task to poll."""

    task_id = serializers.CharField(source="queued_task_id", read_only=True)

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "task_id"]
        read_only_fields = fields


class DocumentCreateSerializer(serializers.Serializer):
    """A file (multipart) or a web page's URL, into a collection."""

    collection = RowIdField()
    file = serializers.FileField(required=False, allow_empty_file=True)
    url = serializers.CharField(required=False, max_length=2000)

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("file")) == bool(attrs.get("url")):
            raise serializers.ValidationError("send either a file or a url, not both")
        return attrs


class ChunkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField()
    page_number = serializers.IntegerField()
    start_offset = serializers.IntegerField()
    end_offset = serializers.IntegerField()
    text = serializers.CharField()


class UploadAnswerSerializer(serializers.Serializer):
    """The original upload route's answer."""

    id = serializers.IntegerField()
    task_id = serializers.CharField()
    status = serializers.CharField()
    filename = serializers.CharField()
    message = serializers.CharField()
    processing_note = serializers.CharField()


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)


class UrlSubmitSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000)


class UrlAnswerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    task_id = serializers.CharField()
    status = serializers.CharField()
    url = serializers.CharField()
    filename = serializers.CharField()
    message = serializers.CharField()
    processing_note = serializers.CharField()


# SEARCH ---------------------------------------------------------------------


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=500, trim_whitespace=True)
    collection = RowIdField(required=False)
    document = RowIdField(required=False)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    offset = serializers.IntegerField(min_value=0, max_value=10_000, default=0)


class SearchHitSerializer(serializers.Serializer):
    chunk_id = serializers.IntegerField()
    document_id = serializers.IntegerField()
    collection_id = serializers.IntegerField()
    document_title = serializers.CharField()
    filename = serializers.CharField()
    page_number = serializers.IntegerField()
    start_offset = serializers.IntegerField()
    end_offset = serializers.IntegerField()
    order = serializers.IntegerField()
    score = serializers.FloatField()
    snippet = serializers.CharField(
        help_text="HTML: the text escaped, matches in <mark>."
    )
    text = serializers.CharField()


class SearchResultsSerializer(serializers.Serializer):
    query = serializers.CharField()
    count = serializers.SerializerMethodField()
    has_more = serializers.BooleanField()
    semantic = serializers.BooleanField()
    results = SearchHitSerializer(many=True, source="hits")

    def get_count(self, results) -> int:
        return len(results.hits)


# RECEIPTS -------------------------------------------------------------------


class ClientDateField(serializers.DateField):
    """A date a client says something happened on: not in the future, not ages ago."""

    def to_internal_value(self, value) -> datetime.date:
        parsed = super().to_internal_value(value)
        # A day ahead of UTC is still today somewhere (up to UTC+14).
        latest = timezone.now().date() + datetime.timedelta(days=1)
        earliest = timezone.now().date() - datetime.timedelta(
            days=settings.API_DATE_MAX_PAST_DAYS
        )
        if parsed > latest:
            raise serializers.ValidationError(f"{parsed.isoformat()} is in the future")
        if parsed < earliest:
            raise serializers.ValidationError(
                f"{parsed.isoformat()} is more than "
                f"{settings.API_DATE_MAX_PAST_DAYS} days ago"
            )
        return parsed


class ReceiptLineItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReceiptLineItem
        fields = ["name", "quantity", "price", "unit_price"]
        read_only_fields = fields


class ReceiptSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    status = serializers.SerializerMethodField()
    date = serializers.DateField(source="receipt_date", read_only=True, allow_null=True)
    line_items = ReceiptLineItemSerializer(many=True, read_only=True)

    class Meta:
        model = Receipt
        fields = [
            "id",
            "owner",
            "filename",
            "size_bytes",
            "purchase_date",
            "status",
            "merchant",
            "date",
            "total",
            "subtotal",
            "tax",
            "currency",
            "line_items",
            "confidence",
            "ocr_text",
            "ocr_score",
            "rotation",
            "error",
            "created_at",
            "processed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Receipt.Status.choices))
    def get_status(self, receipt: Receipt) -> str:
        return selectors.receipt_status(receipt)


class ReceiptCreateSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    purchase_date = ClientDateField()


class ProcessAllQuerySerializer(serializers.Serializer):
    user_id = RowIdField(required=False)


class ProcessAllAnswerSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    job_ids = serializers.ListField(child=serializers.CharField())


class QueueStatusQuerySerializer(serializers.Serializer):
    receipt_id = RowIdField(required=False)


class QueueInfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    count = serializers.IntegerField()
    started_jobs = serializers.IntegerField()
    finished_jobs = serializers.IntegerField()
    failed_jobs = serializers.IntegerField()
    scheduled_jobs = serializers.IntegerField()
    deferred_jobs = serializers.IntegerField()


class ReceiptJobStatusSerializer(serializers.Serializer):
    job_id = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["queued", "started", "scheduled", "finished", "failed", "canceled"]
    )
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    result = serializers.JSONField(allow_null=True)
    exc_info = serializers.CharField(allow_null=True)


class ClearFailedAnswerSerializer(serializers.Serializer):
    cleared = serializers.IntegerField()


# WEBHOOKS -------------------------------------------------------------------


class WebhookEndpointSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    secret_hint = serializers.SerializerMethodField()

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "owner",
            "url",
            "is_active",
            "secret_hint",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_secret_hint(self, endpoint: WebhookEndpoint) -> str:
        return endpoint.secret[:10] + "…"


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    """The endpoint with its signing secret: only in the answer that made the secret."""

    secret = serializers.CharField(read_only=True)

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000)
    is_active = serializers.BooleanField(required=False, default=True)


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, required=False)
    is_active = serializers.BooleanField(required=False)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_id",
            "url",
            "attempt",
            "job_id",
            "outcome",
            "response_status",
            "response_body",
            "error",
            "duration_ms",
            "created_at",
        ]
        read_only_fields = fields


class QueuedJobSerializer(serializers.Serializer):
    job_id = serializers.CharField()
    task_id = serializers.CharField()
    status = serializers.CharField()


class ReceiptPageSerializer(serializers.Serializer):
    """One page of receipts, as `GET /receipts` answers it."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ReceiptSerializer(many=True)
