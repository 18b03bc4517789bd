"""Admin of collections, documents, receipts and webhooks; actions call the services.

Fields the processing jobs own (text metadata, OCR fields, statuses) are
read-only; new documents and receipts come in through the API, where
uploads are checked.
"""

from django.contrib import admin
from django.contrib import messages
from django.db.models import Count
from django.utils.html import format_html

from documents import selectors
from documents import services
from documents.errors import DocumentsError
from documents.models import Collection
from documents.models import Document
from documents.models import Receipt
from documents.models import ReceiptLineItem
from documents.models import WebhookDelivery
from documents.models import WebhookEndpoint


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "search_language", "document_total", "created_at"]
    list_filter = ["search_language"]
    search_fields = ["name", "description", "owner__username"]
    list_select_related = ["owner"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["reindex"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(documents_n=Count("documents"))

    @admin.display(description="documents", ordering="documents_n")
    def document_total(self, collection: Collection) -> int:
        return collection.documents_n

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        language = form.cleaned_data.get("search_language")
        services.collection_update(
            collection=obj,
            name=obj.name,
            description=obj.description,
            search_language=language,
            updated_by=request.user,
        )

    def delete_model(self, request, obj):
        services.collection_delete(collection=obj)

    def delete_queryset(self, request, queryset):
        for collection in queryset:
            services.collection_delete(collection=collection)

    @admin.action(description="Re-index chunks in the collection's search language")
    def reindex(self, request, queryset):
        for collection in queryset:
            result = services.collection_reindex(collection_id=collection.id)
            messages.info(
                request,
                f"{collection}: {result['chunks_reindexed']} chunks re-indexed",
            )


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "collection",
        "kind",
        "status",
        "page_count",
        "chunk_count",
        "size_bytes",
        "created_at",
    ]
    list_filter = ["status", "kind", "language"]
    search_fields = ["filename", "title", "source_url", "sha256", "collection__name"]
    list_select_related = ["collection"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "collection",
        "original",
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
        "updated_at",
        "latest_job",
    ]
    actions = ["reprocess"]

    def has_add_permission(self, request) -> bool:
        return False  # uploads go through the API, where files are checked

    @admin.display(description="latest job")
    def latest_job(self, document: Document) -> str:
        job = selectors.document_latest_job(document=document)
        if job is None:
            return "-"
        return format_html(
            '<a href="/admin/jobs/processingjob/{}/change/">{} ({}, {}%)</a>',
            job.id,
            job.job_type,
            job.status,
            job.progress,
        )

    @admin.action(description="Process again")
    def reprocess(self, request, queryset):
        queued = 0
        for document in queryset:
            try:
                services.document_reprocess(
                    document=document, submitted_by=request.user
                )
                queued += 1
            except DocumentsError as error:
                messages.warning(request, f"{document}: {error}")
        messages.info(request, f"{queued} document(s) queued for processing")

    def delete_model(self, request, obj):
        services.document_delete(document=obj, deleted_by=request.user)

    def delete_queryset(self, request, queryset):
        services.documents_delete(documents=queryset, deleted_by=request.user)


class ReceiptLineItemInline(admin.TabularInline):
    model = ReceiptLineItem
    extra = 0
    can_delete = False
    fields = ["order", "name", "quantity", "price", "unit_price"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Receipt)
class ReceiptAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "owner",
        "merchant",
        "receipt_date",
        "total",
        "currency",
        "purchase_date",
        "status",
        "confidence",
        "created_at",
    ]
    list_filter = ["status", "currency"]
    search_fields = ["merchant", "ocr_text", "owner__username", "filename"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    inlines = [ReceiptLineItemInline]
    readonly_fields = [
        "owner",
        "image",
        "filename",
        "size_bytes",
        "purchase_date",
        "status",
        "merchant",
        "receipt_date",
        "total",
        "subtotal",
        "tax",
        "currency",
        "confidence",
        "ocr_score",
        "rotation",
        "ocr_runs",
        "ocr_text",
        "error",
        "created_at",
        "processed_at",
        "updated_at",
    ]
    actions = ["run_ocr", "clear_failed"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Read by OCR (again)")
    def run_ocr(self, request, queryset):
        queued = 0
        for receipt in queryset:
            _, created = services.receipt_ocr_submit(
                receipt=receipt, submitted_by=request.user
            )
            queued += created
        messages.info(request, f"{queued} receipt(s) queued for OCR")

    @admin.action(description="Clear failed (back to pending)")
    def clear_failed(self, request, queryset):
        cleared = services.receipts_clear_failed(receipts=queryset)
        messages.info(request, f"{cleared} failed receipt(s) are pending again")

    def delete_model(self, request, obj):
        services.receipt_delete(receipt=obj, deleted_by=request.user)

    def delete_queryset(self, request, queryset):
        for receipt in queryset:
            services.receipt_delete(receipt=receipt, deleted_by=request.user)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["owner", "url", "is_active", "created_at", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["owner__username", "url"]
    list_select_related = ["owner"]
    readonly_fields = ["owner", "created_at", "updated_at"]
    fields = ["owner", "url", "is_active", "created_at", "updated_at"]
    actions = ["send_test"]

    def has_add_permission(self, request) -> bool:
        return False  # endpoints are set by their owners through the API

    def save_model(self, request, obj, form, change):
        try:
            services.webhook_endpoint_update(
                endpoint=obj, url=obj.url, is_active=obj.is_active
            )
        except DocumentsError as error:
            messages.error(request, str(error))

    @admin.action(description="Send a test event")
    def send_test(self, request, queryset):
        for endpoint in queryset:
            services.webhook_send_test(endpoint=endpoint, sent_by=request.user)
        messages.info(request, f"{queryset.count()} test event(s) queued")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "owner",
        "event",
        "url",
        "attempt",
        "outcome",
        "response_status",
        "duration_ms",
    ]
    list_filter = ["outcome", "event"]
    search_fields = ["url", "event", "event_id", "owner__username", "error"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
