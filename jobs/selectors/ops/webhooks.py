"""Reads of job-outcome webhooks: endpoints, the owners that have one, job types."""

from collections.abc import Iterable

from django.db.models import QuerySet

from jobs.job_types import job_type_list
from jobs.models import WebhookEndpoint


def webhook_endpoint_list(*, owner_ids: Iterable[int] | None = None) -> QuerySet:
    """Active webhook endpoints (of these owners), with their owners loaded."""
    endpoints = WebhookEndpoint.objects.filter(is_active=True).select_related("owner")
    if owner_ids is not None:
        endpoints = endpoints.filter(owner_id__in=list(owner_ids))
    return endpoints


def webhook_owner_ids() -> set[int]:
    """Owners that have at least one active endpoint."""
    return set(
        WebhookEndpoint.objects.filter(is_active=True)
        .values_list("owner_id", flat=True)
        .distinct()
    )


def job_type_names() -> list[str]:
    """Registered job type names (the registry, never a DISTINCT over the jobs table)."""
    return [job_type.name for job_type in job_type_list()]
