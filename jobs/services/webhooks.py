"""Webhooks on job outcomes: endpoints per owner, one delivery job per event, a log row per attempt.

A job that completes or fails for good is announced to the active endpoints
of its owner: the user who submitted it and the owner of its target (found
generically, see selectors.target_owner_path). Each event is delivered by a
`jobs.webhook` job (signed body, SSRF-guarded, retried with the engine's
backoff on transient errors only). Jobs of owners without an endpoint cost
nothing: the set of owners with endpoints is cached per process, and an
empty set ends the check before any query.
"""

import json
import logging
import secrets
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils import timezone

from jobs.errors import PermanentJobError
from jobs.models import ProcessingJob
from jobs.models import WebhookDelivery
from jobs.models import WebhookEndpoint
from jobs.selectors import ops as ops_selectors
from jobs.services.submission import job_submit_or_get
from outbound import OutboundError
from outbound import check_url
from outbound import deliver

logger = logging.getLogger(__name__)

WEBHOOK_JOB_TYPE = "jobs.webhook"
SECRET_BYTES = 32
# A result larger than this (as JSON) is left out of the event body.
RESULT_MAX_CHARS = 8000
EVENT_OF_STATUS = {
    ProcessingJob.Status.COMPLETED: WebhookEndpoint.Event.COMPLETED,
    ProcessingJob.Status.FAILED: WebhookEndpoint.Event.FAILED,
}


class WebhookUnavailable(Exception):
    """The receiver could not take the event now (network, 408/429/5xx): retry later."""


# ENDPOINTS --------------------------------------------------------------------


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(SECRET_BYTES)


def webhook_url_check(*, url: str) -> str:
    """The URL stripped, or ValidationError when a delivery would always refuse it."""
    url = (url or "").strip()
    try:
        check_url(url, allowed_networks=settings.OPS_WEBHOOK_ALLOWED_NETWORKS)
    except OutboundError as error:
        raise ValidationError({"url": str(error)}) from None
    return url


def _events_check(events: Any) -> list[str]:
    known = set(WebhookEndpoint.Event.values)
    if not isinstance(events, list | tuple) or not events:
        raise ValidationError({"events": f"choose one or more of {sorted(known)}"})
    unknown = [event for event in events if event not in known]
    if unknown:
        raise ValidationError({"events": f"unknown events {unknown}"})
    return sorted(set(events))


def _job_types_check(job_types: Any) -> list[str]:
    if not job_types:
        return []
    known = set(ops_selectors.job_type_names())
    unknown = [name for name in job_types if name not in known]
    if unknown:
        raise ValidationError({"job_types": f"unknown job types {unknown}"})
    return sorted(set(job_types))


def webhook_endpoint_create(
    *,
    owner: Any,
    url: str,
    events: list[str] | None = None,
    job_types: list[str] | None = None,
    description: str = "",
    is_active: bool = True,
) -> WebhookEndpoint:
    """Create an endpoint with a fresh secret; events default to both outcomes."""
    endpoint = WebhookEndpoint(
        owner=owner,
        url=webhook_url_check(url=url),
        secret=_new_secret(),
        events=_events_check(events or list(WebhookEndpoint.Event.values)),
        job_types=_job_types_check(job_types),
        description=description,
        is_active=is_active,
    )
    endpoint.full_clean()
    endpoint.save()
    webhook_owners_forget()
    return endpoint


def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, **changes: Any
) -> WebhookEndpoint:
    """Change an endpoint's url, events, job types, description or on/off switch (its secret stays)."""
    allowed = {"url", "events", "job_types", "description", "is_active", "owner"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"cannot change {sorted(unknown)}")
    if "url" in changes:
        changes["url"] = webhook_url_check(url=changes["url"])
    if "events" in changes:
        changes["events"] = _events_check(changes["events"])
    if "job_types" in changes:
        changes["job_types"] = _job_types_check(changes["job_types"])
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.full_clean()
    endpoint.save()
    webhook_owners_forget()
    return endpoint


def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Give the endpoint a new secret; deliveries from now on are signed with it."""
    endpoint.secret = _new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


# WHO HAS ENDPOINTS (cached per process) ---------------------------------------

_owners_lock = threading.Lock()
_owners_cache: dict[str, Any] = {}


def webhook_owners_forget() -> None:
    """Drop this process's cached set of owners with endpoints (after a change)."""
    with _owners_lock:
        _owners_cache.clear()


def webhook_owners_cached() -> frozenset[int]:
    """Owners with an active endpoint, read at most every OPS_WEBHOOK_OWNER_CACHE_S per process."""
    now = time.monotonic()
    with _owners_lock:
        if now - _owners_cache.get("at", -1e9) < settings.OPS_WEBHOOK_OWNER_CACHE_S:
            return _owners_cache["owners"]
    owners = frozenset(ops_selectors.webhook_owner_ids())
    with _owners_lock:
        _owners_cache.update(at=now, owners=owners)
    return owners


# EVENTS -----------------------------------------------------------------------


def _event_body(job: ProcessingJob, event: str, event_id: str) -> dict[str, Any]:
    target = None
    if job.content_type_id:
        content_type = ContentType.objects.get_for_id(job.content_type_id)
        target = {
            "type": f"{content_type.app_label}.{content_type.model}",
            "id": job.object_id,
        }
    data: dict[str, Any] = {
        "job_id": str(job.id),
        "job_type": job.job_type,
        "status": job.status,
        "queue": job.queue,
        "attempts": job.attempts,
        "target": target,
        "queued_at": job.queued_at.isoformat() if job.queued_at else None,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "completed_at": job.completed_at.isoformat() if job.completed_at else None,
        "duration_s": job.duration_s,
    }
    if job.status == ProcessingJob.Status.FAILED:
        data["error"] = job.error_message
    elif job.result is not None:
        if len(json.dumps(job.result, default=str)) <= RESULT_MAX_CHARS:
            data["result"] = job.result
        else:
            data["result_omitted"] = f"larger than {RESULT_MAX_CHARS} characters"
    return {
        "id": event_id,
        "event": event,
        "created_at": timezone.now().isoformat(),
        "data": data,
    }


def _owners_of(job: ProcessingJob, candidates: frozenset[int]) -> set[int]:
    owners = set()
    if job.submitted_by_id in candidates:
        owners.add(job.submitted_by_id)
    if job.content_type_id:
        model = ContentType.objects.get_for_id(job.content_type_id).model_class()
        if model is not None and ops_selectors.target_owner_path(model):
            owner_id = ops_selectors.target_owner_ids(
                model=model, object_ids=[job.object_id]
            ).get(str(job.object_id))
            if owner_id in candidates:
                owners.add(owner_id)
    return owners


def _idempotency_key(endpoint_id: int, job: ProcessingJob, event: str) -> str:
    return f"webhook:{endpoint_id}:{job.id}:{job.dispatch_generation}:{event}"


def job_outcome_notify(*, job_id: Any) -> list[ProcessingJob]:
    """Queue a webhook delivery per matching endpoint of the job's owners (sent on commit).

    Idempotent: each (endpoint, job, dispatch generation, event) is queued
    once, however many times this runs. Returns the delivery jobs queued now.
    """
    candidates = webhook_owners_cached()
    if not candidates:
        return []
    job = (
        ProcessingJob.objects.filter(id=job_id, status__in=list(EVENT_OF_STATUS))
        .exclude(job_type=WEBHOOK_JOB_TYPE)
        .first()
    )
    if job is None:
        return []
    owners = _owners_of(job, candidates)
    if not owners:
        return []
    event = EVENT_OF_STATUS[job.status]
    queued = []
    for endpoint in ops_selectors.webhook_endpoint_list(owner_ids=owners):
        if event not in endpoint.events:
            continue
        if endpoint.job_types and job.job_type not in endpoint.job_types:
            continue
        event_id = str(uuid.uuid4())
        delivery, created = _submit_delivery(endpoint, job, event, event_id)
        if created:
            queued.append(delivery)
    return queued


def _submit_delivery(
    endpoint: WebhookEndpoint, job: ProcessingJob, event: str, event_id: str
) -> tuple[ProcessingJob, bool]:
    return job_submit_or_get(
        job_type=WEBHOOK_JOB_TYPE,
        target=endpoint,
        params={
            "job_id": str(job.id),
            "event": event,
            "event_id": event_id,
            "body": _event_body(job, event, event_id),
        },
        queue=settings.OPS_WEBHOOK_QUEUE,
        idempotency_key=_idempotency_key(endpoint.id, job, event),
        max_retries=settings.OPS_WEBHOOK_MAX_RETRIES,
    )


def webhooks_sweep(*, window_s: float | None = None) -> int:
    """Queue the deliveries that the worker-side hook missed (watchdog failures, inline runs).

    Looks at jobs finished in the last `window_s` (default
    OPS_WEBHOOK_SWEEP_WINDOW_S) whose owner or target owner has an endpoint,
    one query per target model; returns how many deliveries it queued.
    """
    owners = ops_selectors.webhook_owner_ids()
    if not owners:
        return 0
    window_s = settings.OPS_WEBHOOK_SWEEP_WINDOW_S if window_s is None else window_s
    since = timezone.now() - timedelta(seconds=window_s)
    finished = ProcessingJob.objects.filter(
        status__in=list(EVENT_OF_STATUS), completed_at__gte=since
    ).exclude(job_type=WEBHOOK_JOB_TYPE)
    candidates = set(
        finished.filter(submitted_by_id__in=owners).values_list("id", flat=True)[:5000]
    )
    content_type_ids = finished.exclude(content_type=None).values_list(
        "content_type_id", flat=True
    )
    for content_type_id in set(content_type_ids.distinct().order_by()):
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        path = ops_selectors.target_owner_path(model) if model else None
        if path is None:
            continue
        owned = (
            model._default_manager.filter(**{f"{path}__in": owners})
            .annotate(object_key=Cast("pk", output_field=CharField()))
            .values("object_key")
        )
        candidates.update(
            finished.filter(
                content_type_id=content_type_id, object_id__in=owned
            ).values_list("id", flat=True)[:5000]
        )
    queued = 0
    for job_id in candidates:
        try:
            queued += len(job_outcome_notify(job_id=job_id))
        except Exception:
            logger.exception("webhook sweep could not notify job_id=%s", job_id)
    if queued:
        logger.info("webhooks_sweep queued=%d", queued)
    return queued


# DELIVERY ---------------------------------------------------------------------


def webhook_deliver(
    *,
    endpoint_id: int,
    job_id: str | None,
    event: str,
    event_id: str,
    body: dict[str, Any],
    attempt: int,
    is_last_attempt: bool,
    delivery_job_id: str | None = None,
) -> dict[str, Any]:
    """POST one event, signed, to the endpoint's current URL and log the attempt.

    Raises WebhookUnavailable when a later attempt may succeed (network,
    408/425/429/5xx); a refused address or another answer fails for good
    (PermanentJobError). A switched-off endpoint gets nothing.
    """
    endpoint = WebhookEndpoint.objects.get(id=endpoint_id)
    if not endpoint.is_active:
        return {"delivered": False, "skipped": "the endpoint is switched off"}
    result = deliver(
        endpoint.url,
        payload=body,
        secret=endpoint.secret,
        event=event,
        delivery_id=event_id,
        timeout_s=settings.OPS_WEBHOOK_TIMEOUT_S,
        allowed_networks=settings.OPS_WEBHOOK_ALLOWED_NETWORKS,
    )
    if result.delivered:
        outcome = WebhookDelivery.Outcome.DELIVERED
    elif result.transient and not is_last_attempt:
        outcome = WebhookDelivery.Outcome.RETRYING
    else:
        outcome = WebhookDelivery.Outcome.FAILED
    with transaction.atomic():
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            owner_id=endpoint.owner_id,
            job_id=job_id
            if job_id and ProcessingJob.objects.filter(id=job_id).exists()
            else None,
            event=event,
            event_id=event_id,
            url=endpoint.url,
            attempt=attempt,
            delivery_job_id=delivery_job_id,
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
