"""REST resources of the documents app: collections, documents (+ search), receipts, webhooks.

Owner-scoped: each user sees their own; staff see all. Writes go through
`documents.services`, reads through `documents.selectors`.
"""

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import extend_schema_view
from rest_framework import mixins
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from documents import selectors
from documents import services
from documents.api import serializers as s
from documents.api.errors import RefusalsMixin
from documents.api.filters import DocumentFilter
from documents.api.filters import ReceiptFilter
from documents.models import Collection
from documents.models import Document
from documents.models import Receipt


class ScopedRateMixin:
    """Actions named in `action_scopes` count against DOCUMENTS_RATE_LIMITS[scope]."""

    action_scopes: dict[str, str] = {}

    @property
    def ratelimit_scope(self) -> str:
        scope = self.action_scopes.get(getattr(self, "action", None) or "")
        return f"documents_{scope}" if scope else "api"

    def ratelimit_rate(self) -> str | None:
        scope = self.action_scopes.get(getattr(self, "action", None) or "")
        return settings.DOCUMENTS_RATE_LIMITS.get(scope) if scope else None


def _queued(submission: services.DocumentSubmission) -> Document:
    document = submission.document
    document.queued_task_id = submission.job.task_id
    document.has_active_job = True
    return document


# COLLECTIONS ----------------------------------------------------------------


@extend_schema(tags=["documents"])
@extend_schema_view(
    create=extend_schema(
        request=s.CollectionCreateSerializer, responses=s.CollectionSerializer
    ),
    partial_update=extend_schema(
        request=s.CollectionUpdateSerializer, responses=s.CollectionSerializer
    ),
)
class CollectionViewSet(
    RefusalsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Knowledge bases (the original's agents): `id` is the `agent_id` of the upload route."""

    serializer_class = s.CollectionSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Collection]:
        return selectors.collection_list(user=self.request.user)

    def create(self, request):
        incoming = s.CollectionCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        collection = services.collection_create(
            owner=request.user, **incoming.validated_data
        )
        collection.document_count = 0
        return Response(s.CollectionSerializer(collection).data, status=201)

    def partial_update(self, request, pk=None):
        incoming = s.CollectionUpdateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        collection = services.collection_update(
            collection=self.get_object(),
            updated_by=request.user,
            **incoming.validated_data,
        )
        return Response(
            s.CollectionSerializer(self.get_queryset().get(pk=collection.pk)).data
        )

    def perform_destroy(self, instance: Collection) -> None:
        services.collection_delete(collection=instance)


# DOCUMENTS ------------------------------------------------------------------

SEARCH_PARAMETERS = [
    OpenApiParameter(
        "q",
        OpenApiTypes.STR,
        required=True,
        description='words, "phrases", -excluded, OR',
    ),
    OpenApiParameter(
        "collection", OpenApiTypes.INT, description="only this collection"
    ),
    OpenApiParameter("document", OpenApiTypes.INT, description="only this document"),
    OpenApiParameter("limit", OpenApiTypes.INT, description="1-100, default 20"),
    OpenApiParameter("offset", OpenApiTypes.INT, description="default 0"),
]


@extend_schema(tags=["documents"])
@extend_schema_view(
    create=extend_schema(
        request={"multipart/form-data": s.DocumentCreateSerializer},
        responses={201: s.DocumentQueuedSerializer},
        description="A file (multipart `file`) or a web page (`url`) into a collection.",
    ),
)
class DocumentViewSet(
    RefusalsMixin,
    ScopedRateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Documents of the user's collections; `search/` ranks their chunks."""

    serializer_class = s.DocumentSerializer
    filterset_class = DocumentFilter
    action_scopes = {"create": "upload", "search": "search", "reprocess": "upload"}

    def get_queryset(self) -> QuerySet[Document]:
        if getattr(self, "swagger_fake_view", False):
            return Document.objects.none()  # schema generation: no database
        return selectors.document_list(user=self.request.user)

    def create(self, request):
        incoming = s.DocumentCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        collection = selectors.collection_get(
            collection_id=incoming.validated_data["collection"], user=request.user
        )
        if incoming.validated_data.get("file"):
            submission = services.document_upload(
                collection=collection,
                upload=incoming.validated_data["file"],
                uploaded_by=request.user,
            )
        else:
            submission = services.document_submit_url(
                collection=collection,
                url=incoming.validated_data["url"],
                submitted_by=request.user,
            )
        return Response(
            s.DocumentQueuedSerializer(_queued(submission)).data, status=201
        )

    def perform_destroy(self, instance: Document) -> None:
        services.document_delete(document=instance, deleted_by=self.request.user)

    @extend_schema(request=None, responses={202: s.DocumentQueuedSerializer})
    @action(detail=True, methods=["post"])
    def reprocess(self, request, pk=None):
        """Process the document again (a web page is fetched again); 409 while a job is active."""
        submission = services.document_reprocess(
            document=self.get_object(), submitted_by=request.user
        )
        return Response(
            s.DocumentQueuedSerializer(_queued(submission)).data, status=202
        )

    @extend_schema(responses=s.ChunkSerializer(many=True))
    @action(detail=True, methods=["get"])
    def chunks(self, request, pk=None):
        """The document's chunks in order, with page numbers and character offsets."""
        chunks = selectors.chunk_list(document=self.get_object())
        page = self.paginate_queryset(chunks)
        return self.get_paginated_response(s.ChunkSerializer(page, many=True).data)

    @extend_schema(parameters=SEARCH_PARAMETERS, responses=s.SearchResultsSerializer)
    @action(detail=False, methods=["get"], filterset_class=None)
    def search(self, request):
        """Chunks matching `q`, best first, with highlighted snippets and page numbers."""
        incoming = s.SearchQuerySerializer(data=request.query_params)
        incoming.is_valid(raise_exception=True)
        params = incoming.validated_data
        results = selectors.chunk_search(
            query=params["q"],
            user=request.user,
            collection_id=params.get("collection"),
            document_id=params.get("document"),
            limit=params["limit"],
            offset=params["offset"],
        )
        return Response(s.SearchResultsSerializer(results).data)


# RECEIPTS -------------------------------------------------------------------


@extend_schema(tags=["receipts"])
@extend_schema_view(
    create=extend_schema(
        request={"multipart/form-data": s.ReceiptCreateSerializer},
        responses={201: s.ReceiptSerializer},
    ),
)
class ReceiptViewSet(
    RefusalsMixin,
    ScopedRateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The user's receipts and the fields OCR read from them."""

    serializer_class = s.ReceiptSerializer
    filterset_class = ReceiptFilter
    action_scopes = {"create": "receipt_upload", "reprocess": "receipt_upload"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Receipt.objects.none()  # schema generation: no database
        return selectors.receipt_list(user=self.request.user)

    def create(self, request):
        incoming = s.ReceiptCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        receipt = services.receipt_create(
            owner=request.user,
            image=incoming.validated_data["file"],
            purchase_date=incoming.validated_data["purchase_date"],
        )
        receipt = self.get_queryset().get(pk=receipt.pk)
        return Response(s.ReceiptSerializer(receipt).data, status=201)

    def perform_destroy(self, instance) -> None:
        services.receipt_delete(receipt=instance, deleted_by=self.request.user)

    @extend_schema(request=None, responses={202: s.QueuedJobSerializer})
    @action(detail=True, methods=["post"])
    def reprocess(self, request, pk=None):
        """Read the receipt by OCR (again); a job already waiting or running is answered instead."""
        job, _ = services.receipt_ocr_submit(
            receipt=self.get_object(), submitted_by=request.user
        )
        return Response(
            {
                "job_id": job.idempotency_key or str(job.id),
                "task_id": job.task_id,
                "status": job.status,
            },
            status=202,
        )


# WEBHOOKS -------------------------------------------------------------------


@extend_schema(tags=["documents"])
@extend_schema_view(
    create=extend_schema(
        request=s.WebhookEndpointInputSerializer,
        responses={201: s.WebhookEndpointWithSecretSerializer},
        description="Set your endpoint (one per user; a second POST changes it).",
    ),
    partial_update=extend_schema(
        request=s.WebhookEndpointUpdateSerializer, responses=s.WebhookEndpointSerializer
    ),
)
class WebhookEndpointViewSet(
    RefusalsMixin,
    ScopedRateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Where completion events (document.completed/failed, receipt.completed/failed) are POSTed.

    Bodies are signed: `X-Mediaqueue-Signature: sha256=HMAC(secret, "<timestamp>.<body>")`
    with the timestamp in `X-Mediaqueue-Timestamp`.
    """

    serializer_class = s.WebhookEndpointSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_scopes = {"test": "webhook_test"}

    def get_queryset(self):
        return selectors.webhook_endpoint_list(user=self.request.user)

    def create(self, request):
        incoming = s.WebhookEndpointInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_set(
            owner=request.user, **incoming.validated_data
        )
        return Response(
            s.WebhookEndpointWithSecretSerializer(endpoint).data, status=201
        )

    def partial_update(self, request, pk=None):
        incoming = s.WebhookEndpointUpdateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(
            endpoint=self.get_object(), **incoming.validated_data
        )
        return Response(s.WebhookEndpointSerializer(endpoint).data)

    def perform_destroy(self, instance) -> None:
        services.webhook_endpoint_delete(endpoint=instance)

    @extend_schema(request=None, responses=s.WebhookEndpointWithSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new signing secret, shown in this answer only."""
        endpoint = services.webhook_endpoint_rotate_secret(endpoint=self.get_object())
        return Response(s.WebhookEndpointWithSecretSerializer(endpoint).data)

    @extend_schema(request=None, responses={202: s.QueuedJobSerializer})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Queue a signed `webhook.test` event to the endpoint."""
        job = services.webhook_send_test(
            endpoint=self.get_object(), sent_by=request.user
        )
        return Response(
            {"job_id": str(job.id), "task_id": job.task_id, "status": job.status},
            status=202,
        )

    @extend_schema(responses=s.WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """Every delivery attempt to this endpoint, newest first."""
        deliveries = selectors.webhook_delivery_list(
            user=request.user, endpoint=self.get_object()
        )
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(
            s.WebhookDeliverySerializer(page, many=True).data
        )
