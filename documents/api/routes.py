"""The documents app's REST resources, registered on the project's one router."""

from rest_framework.routers import BaseRouter

from documents.api import views


def register(router: BaseRouter) -> None:
    """Register this app's ViewSets (plural kebab-case prefix, singular basename)."""
    router.register("collections", views.CollectionViewSet, basename="collection")
    router.register("documents", views.DocumentViewSet, basename="document")
    router.register("receipts", views.ReceiptViewSet, basename="receipt")
    router.register(
        "document-webhooks", views.WebhookEndpointViewSet, basename="document-webhook"
    )
