"""Reads of webhook endpoints and their delivery log."""

from typing import Any

from django.db.models import QuerySet

from documents.models import WebhookDelivery
from documents.models import WebhookEndpoint
from documents.selectors.visibility import visible


def webhook_endpoint_list(*, user: Any = None) -> QuerySet[WebhookEndpoint]:
    """Endpoints the user may see (staff: all; others: their own)."""
    endpoints = WebhookEndpoint.objects.select_related("owner")
    return visible(endpoints, user=user, owner_path="owner")


def webhook_endpoint_get(*, endpoint_id: Any, user: Any = None) -> WebhookEndpoint:
    """One visible endpoint; WebhookEndpoint.DoesNotExist otherwise."""
    try:
        endpoint_id = int(endpoint_id)
    except (TypeError, ValueError):
        raise WebhookEndpoint.DoesNotExist(f"no endpoint {endpoint_id!r}") from None
    return webhook_endpoint_list(user=user).get(id=endpoint_id)


def webhook_delivery_list(
    *, user: Any = None, endpoint: WebhookEndpoint | None = None
) -> QuerySet[WebhookDelivery]:
    """Delivery attempts the user may see, newest first (optionally of one endpoint)."""
    deliveries = WebhookDelivery.objects.select_related("owner", "endpoint")
    if endpoint is not None:
        deliveries = deliveries.filter(endpoint=endpoint)
    return visible(deliveries, user=user, owner_path="owner")
