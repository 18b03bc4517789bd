"""Webhooks on job outcomes: endpoints, who is told, signed delivery, retries, the log."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

import outbound
from jobs import services
from jobs.errors import PermanentJobError
from jobs.models import ProcessingJob
from jobs.models import WebhookDelivery
from jobs.models import WebhookEndpoint
from jobs.services import webhooks
from jobs.tests.conftest import failed_job
from jobs.tests.conftest import make_job

S = ProcessingJob.Status
LOOPBACK = ["127.0.0.0/8"]


@pytest.fixture(autouse=True)
def fresh_owner_cache():
    webhooks.webhook_owners_forget()
    yield
    webhooks.webhook_owners_forget()


@pytest.fixture
def loopback_allowed(settings):
    settings.OPS_WEBHOOK_ALLOWED_NETWORKS = LOOPBACK


def completed_job(**fields) -> ProcessingJob:
    now = timezone.now()
    return make_job(
        status=S.COMPLETED,
        attempts=1,
        started_at=now,
        completed_at=now,
        result={"pages": 3},
        **fields,
    )


def deliveries_queued(job) -> list[ProcessingJob]:
    return list(
        ProcessingJob.objects.filter(
            job_type=webhooks.WEBHOOK_JOB_TYPE, params__job_id=str(job.id)
        )
    )


@pytest.mark.django_db
def test_an_endpoint_gets_a_secret_and_refuses_addresses_a_delivery_would(
    user, settings
):
    with pytest.raises(ValidationError, match="url"):
        services.webhook_endpoint_create(owner=user, url="http://127.0.0.1:9/hook")
    with pytest.raises(ValidationError, match="events"):
        services.webhook_endpoint_create(
            owner=user, url="https://hooks.example.com/x", events=["job.exploded"]
        )
    with pytest.raises(ValidationError, match="job_types"):
        services.webhook_endpoint_create(
            owner=user, url="https://hooks.example.com/x", job_types=["no.such"]
        )
    endpoint = services.webhook_endpoint_create(
        owner=user, url=" https://hooks.example.com/x "
    )
    assert endpoint.url == "https://hooks.example.com/x"
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    assert endpoint.events == ["job.completed", "job.failed"]
    old = endpoint.secret
    assert services.webhook_endpoint_rotate_secret(endpoint=endpoint).secret != old


@pytest.mark.django_db
def test_without_endpoints_an_outcome_costs_no_query(django_assert_num_queries, user):
    job = completed_job(submitted_by=user)
    webhooks.webhook_owners_cached()  # this process has looked once
    with django_assert_num_queries(0):
        assert services.job_outcome_notify(job_id=job.id) == []


@pytest.mark.django_db
def test_the_submitters_endpoint_is_told_once_per_outcome(user, loopback_allowed):
    endpoint = services.webhook_endpoint_create(owner=user, url="http://127.0.0.1:9/h")
    job = completed_job(submitted_by=user)
    queued = services.job_outcome_notify(job_id=job.id)
    assert len(queued) == 1
    delivery = queued[0]
    assert delivery.object_id == str(endpoint.id)
    assert delivery.queue == "default"
    body = delivery.params["body"]
    assert body["event"] == "job.completed"
    assert body["data"]["job_id"] == str(job.id)
    assert body["data"]["result"] == {"pages": 3}
    assert services.job_outcome_notify(job_id=job.id) == []  # idempotent
    assert len(deliveries_queued(job)) == 1


@pytest.mark.django_db
def test_the_target_owner_is_told_too_and_filters_apply(
    user, other_user, capture_for, loopback_allowed
):
    capture = capture_for(user, with_file=False)
    services.webhook_endpoint_create(
        owner=user, url="http://127.0.0.1:9/all", events=["job.failed"]
    )
    services.webhook_endpoint_create(
        owner=user,
        url="http://127.0.0.1:9/typed",
        events=["job.failed"],
        job_types=["jobs.webhook"],
    )
    failed = failed_job("boom", target=capture, submitted_by=other_user)
    queued = services.job_outcome_notify(job_id=failed.id)
    assert [job.params["body"]["event"] for job in queued] == ["job.failed"]
    assert queued[0].params["body"]["data"]["error"] == "boom"
    completed = completed_job(target=capture)
    assert services.job_outcome_notify(job_id=completed.id) == []  # not subscribed


@pytest.mark.django_db
def test_webhook_jobs_do_not_announce_themselves(user, loopback_allowed):
    services.webhook_endpoint_create(owner=user, url="http://127.0.0.1:9/h")
    job = completed_job(submitted_by=user, job_type=webhooks.WEBHOOK_JOB_TYPE)
    assert services.job_outcome_notify(job_id=job.id) == []


@pytest.mark.django_db
def test_the_sweep_queues_outcomes_the_hook_missed(user, capture_for, loopback_allowed):
    services.webhook_endpoint_create(owner=user, url="http://127.0.0.1:9/h")
    mine = completed_job(submitted_by=user)
    owned = failed_job(
        "watchdog: no heartbeat", target=capture_for(user, with_file=False)
    )
    completed_job()  # nobody's
    assert services.webhooks_sweep() == 2
    assert len(deliveries_queued(mine)) == len(deliveries_queued(owned)) == 1
    assert services.webhooks_sweep() == 0


@pytest.mark.django_db
def test_a_delivery_is_signed_and_logged(user, receiver, loopback_allowed):
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url())
    job = completed_job(submitted_by=user)
    body = {"id": "e1", "event": "job.completed", "data": {"job_id": str(job.id)}}
    result = services.webhook_deliver(
        endpoint_id=endpoint.id,
        job_id=str(job.id),
        event="job.completed",
        event_id="5d3f3c52-8c59-4f39-9a39-6ea6e0f0b4a1",
        body=body,
        attempt=1,
        is_last_attempt=False,
    )
    assert result["delivered"] is True
    sent = receiver.received[0]
    assert json.loads(sent.body) == body
    assert outbound.verify(
        sent.body,
        secret=endpoint.secret,
        signature=sent.headers[outbound.SIGNATURE_HEADER],
        timestamp=sent.headers[outbound.TIMESTAMP_HEADER],
    )
    assert sent.headers["X-Mediaqueue-Event"] == "job.completed"
    logged = WebhookDelivery.objects.get()
    assert (logged.outcome, logged.response_status, logged.job_id) == (
        "delivered",
        204,
        job.id,
    )


@pytest.mark.django_db
def test_transient_answers_retry_until_the_last_attempt_others_fail_at_once(
    user, receiver, loopback_allowed
):
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url())
    receiver.statuses = [503, 503, 400]
    common = {
        "endpoint_id": endpoint.id,
        "job_id": None,
        "event": "job.failed",
        "event_id": "5d3f3c52-8c59-4f39-9a39-6ea6e0f0b4a1",
        "body": {"x": 1},
    }
    with pytest.raises(webhooks.WebhookUnavailable):
        services.webhook_deliver(**common, attempt=1, is_last_attempt=False)
    with pytest.raises(webhooks.WebhookUnavailable):
        services.webhook_deliver(**common, attempt=2, is_last_attempt=True)
    with pytest.raises(PermanentJobError):
        services.webhook_deliver(**common, attempt=3, is_last_attempt=False)
    assert list(
        WebhookDelivery.objects.order_by("attempt").values_list("outcome", flat=True)
    ) == ["retrying", "failed", "failed"]


@pytest.mark.django_db
def test_deliveries_never_reach_loopback_outside_tests(user, receiver, settings):
    settings.OPS_WEBHOOK_ALLOWED_NETWORKS = LOOPBACK
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url())
    settings.OPS_WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(PermanentJobError, match="ForbiddenAddress"):
        services.webhook_deliver(
            endpoint_id=endpoint.id,
            job_id=None,
            event="job.completed",
            event_id="5d3f3c52-8c59-4f39-9a39-6ea6e0f0b4a1",
            body={},
            attempt=1,
            is_last_attempt=False,
        )
    assert receiver.received == []


@pytest.mark.django_db
def test_endpoints_are_made_in_the_admin_through_the_service(admin_client, user):
    response = admin_client.post(
        reverse("admin:jobs_webhookendpoint_add"),
        {
            "owner": user.pk,
            "url": "https://hooks.example.com/jobs",
            "events": ["job.failed"],
            "description": "on-call",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.events == ["job.failed"]
    refused = admin_client.post(
        reverse("admin:jobs_webhookendpoint_add"),
        {"owner": user.pk, "url": "http://10.0.0.1/x", "events": ["job.failed"]},
    )
    assert refused.status_code == 200  # the form again, with the error
    assert WebhookEndpoint.objects.count() == 1
    page = admin_client.get(
        reverse("admin:jobs_webhookendpoint_change", args=[endpoint.pk])
    )
    assert endpoint.secret in page.content.decode()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_finished_job_is_announced_by_a_real_worker(
    user, receiver, start_worker, wait, loopback_allowed
):
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url())
    start_worker(
        queues="default",
        concurrency=1,
        env={"OPS_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8"},
    )
    job = services.job_submit(
        job_type="jobs.diagnostic", params={"result": "ok"}, submitted_by=user
    )
    wait(lambda: receiver.received, timeout_s=30, message="no webhook arrived")
    sent = receiver.received[0]
    body = json.loads(sent.body)
    assert (body["event"], body["data"]["job_id"]) == ("job.completed", str(job.id))
    assert outbound.verify(
        sent.body,
        secret=endpoint.secret,
        signature=sent.headers[outbound.SIGNATURE_HEADER],
        timestamp=sent.headers[outbound.TIMESTAMP_HEADER],
    )
    logged = wait(
        lambda: WebhookDelivery.objects.filter(job_id=job.id).first(), timeout_s=10
    )
    assert logged.outcome == "delivered"
