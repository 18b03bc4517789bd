"""Signed completion webhooks: one endpoint per owner, one job per event, a log row per attempt.

Nothing here knows about documents or receipts: callers name an event and
give its data. (The job engine can adopt this for job-completion webhooks.)
"""

import secrets
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from documents.errors import ForbiddenSourceUrl
from documents.errors import WebhookUnavailable
from documents.models import WebhookDelivery
from documents.models import WebhookEndpoint
from jobs import services as job_services
from jobs.errors import PermanentJobError
from jobs.models import ProcessingJob
from outbound import OutboundError
from outbound import check_url
from outbound import deliver

WEBHOOK_JOB_TYPE = "documents.webhook"
TEST_EVENT = "webhook.test"
SECRET_BYTES = 32


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(SECRET_BYTES)


def webhook_url_check(url: str) -> str:
    """The URL stripped, or ForbiddenSourceUrl for one a delivery would always refuse."""
    url = (url or "").strip()
    try:
        check_url(url, allowed_networks=settings.DOCUMENTS_OUTBOUND_ALLOWED_NETWORKS)
    except OutboundError as error:
        raise ForbiddenSourceUrl(str(error)) from None
    return url


@transaction.atomic
def webhook_endpoint_set(
    *, owner: Any, url: str, is_active: bool = True
) -> WebhookEndpoint:
    """Create or change the owner's endpoint; a new one gets a fresh secret."""
    url = webhook_url_check(url)
    endpoint = WebhookEndpoint.objects.select_for_update().filter(owner=owner).first()
    if endpoint is None:
        endpoint = WebhookEndpoint(owner=owner, secret=_new_secret())
    endpoint.url = url
    endpoint.is_active = is_active
    endpoint.full_clean(validate_unique=False)
    endpoint.save()
    return endpoint


def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, url: str | None = None, is_active: bool | None = None
) -> WebhookEndpoint:
    """Change an endpoint's URL or switch it on or off (its secret stays)."""
    if url is not None:
        endpoint.url = webhook_url_check(url)
    if is_active is not None:
        endpoint.is_active = is_active
    endpoint.full_clean(validate_unique=False)
    endpoint.save()
    return endpoint


def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Give the endpoint a new secret; deliveries from now on are signed with it."""
    endpoint.secret = _new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint; its delivery log stays (endpoint set to null)."""
    endpoint.delete()


def webhook_notify(
    *, owner_id: int, event: str, payload: dict, submitted_by: Any = None
) -> ProcessingJob | None:
    """Queue the delivery of an event to the owner's active endpoint (sent on commit); None without one."""
    endpoint = WebhookEndpoint.objects.filter(owner_id=owner_id, is_active=True).first()
    if endpoint is None:
        return None
    event_id = str(uuid.uuid4())
    body = {
        "id": event_id,
        "event": event,
        "created_at": timezone.now().isoformat(),
        "data": payload,
    }
    return job_services.job_submit(
        job_type=WEBHOOK_JOB_TYPE,
        target=endpoint,
        params={"event": event, "event_id": event_id, "body": body},
        submitted_by=submitted_by,
        max_retries=settings.DOCUMENTS_WEBHOOK_MAX_RETRIES,
    )


def webhook_deliver(
    *,
    endpoint_id: int,
    event: str,
    event_id: str,
    body: dict,
    attempt: int,
    is_last_attempt: bool,
    job_id: str | None = None,
) -> dict:
    """POST one event, signed, to the endpoint's current URL and log the attempt.

    Raises WebhookUnavailable when a later attempt may succeed (network,
    408/429/5xx); a refused address or another answer fails for good
    (PermanentJobError). A switched-off endpoint gets nothing but tests.
    """
    endpoint = WebhookEndpoint.objects.get(id=endpoint_id)
    if not endpoint.is_active and event != TEST_EVENT:
        return {"delivered": False, "skipped": "the endpoint is switched off"}
    result = deliver(
        endpoint.url,
        payload=body,
        secret=endpoint.secret,
        event=event,
        delivery_id=event_id,
        timeout_s=settings.DOCUMENTS_WEBHOOK_TIMEOUT_S,
        allowed_networks=settings.DOCUMENTS_OUTBOUND_ALLOWED_NETWORKS,
    )
    if result.delivered:
        outcome = WebhookDelivery.Outcome.DELIVERED
    elif result.transient and not is_last_attempt:
        outcome = WebhookDelivery.Outcome.RETRYING
    else:
        outcome = WebhookDelivery.Outcome.FAILED
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        owner_id=endpoint.owner_id,
        event=event,
        event_id=event_id,
        url=endpoint.url,
        attempt=attempt,
        job_id=job_id,
        outcome=outcome,
        response_status=result.status,
        response_body=result.response_excerpt,
        error=result.error,
        duration_ms=result.duration_ms,
        payload=body,
    )
    if result.delivered:
        return {"delivered": True, "status": result.status, "attempt": attempt}
    if result.transient:
        raise WebhookUnavailable(result.error)
    raise PermanentJobError(result.error)


def webhook_send_test(
    *, endpoint: WebhookEndpoint, sent_by: Any = None
) -> ProcessingJob:
    """Queue a `webhook.test` event to the endpoint, whatever its on/off switch."""
    event_id = str(uuid.uuid4())
    body = {
        "id": event_id,
        "event": TEST_EVENT,
        "created_at": timezone.now().isoformat(),
        "data": {"message": "This is a test delivery from Mediaqueue."},
    }
    return job_services.job_submit(
        job_type=WEBHOOK_JOB_TYPE,
        target=endpoint,
        params={"event": TEST_EVENT, "event_id": event_id, "body": body},
        submitted_by=sent_by,
        max_retries=0,
    )
