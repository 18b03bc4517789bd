"""Signed completion webhooks: endpoint rules, one queued job per event, a log row per attempt,
signatures verified by a local receiving server, SSRF refusals."""

import json

import pytest

from documents import services
from documents.errors import ForbiddenSourceUrl
from documents.errors import WebhookUnavailable
from documents.models import WebhookDelivery
from documents.tests.factories import DocumentFactory
from documents.tests.factories import ReceiptFactory
from jobs.errors import PermanentJobError
from jobs.models import ProcessingJob
from outbound import SIGNATURE_HEADER
from outbound import TIMESTAMP_HEADER
from outbound import verify
from outbound.delivery import DELIVERY_HEADER
from outbound.delivery import EVENT_HEADER

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(user, web, loopback_allowed):
    return services.webhook_endpoint_set(owner=user, url=web.url("/hook"))


def webhook_jobs() -> list[ProcessingJob]:
    return list(ProcessingJob.objects.filter(job_type=services.WEBHOOK_JOB_TYPE))


def deliver(job: ProcessingJob, *, attempt=1, is_last_attempt=False) -> dict:
    return services.webhook_deliver(
        endpoint_id=int(job.object_id),
        event=job.params["event"],
        event_id=job.params["event_id"],
        body=job.params["body"],
        attempt=attempt,
        is_last_attempt=is_last_attempt,
        job_id=str(job.id),
    )


def test_an_endpoint_gets_a_secret_and_one_per_owner(user, endpoint, web):
    assert endpoint.secret.startswith("whsec_")
    again = services.webhook_endpoint_set(owner=user, url=web.url("/hook/v2"))
    assert again.pk == endpoint.pk
    assert again.secret == endpoint.secret
    rotated = services.webhook_endpoint_rotate_secret(endpoint=again)
    assert rotated.secret != endpoint.secret


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/",
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "https://u:p@hooks.example.com/",
    ],
)
def test_endpoints_that_could_never_be_delivered_to_are_refused(user, url):
    with pytest.raises(ForbiddenSourceUrl):
        services.webhook_endpoint_set(owner=user, url=url)


def test_events_are_queued_only_for_owners_with_an_active_endpoint(
    user, other_user, endpoint
):
    assert (
        services.webhook_notify(owner_id=other_user.pk, event="x", payload={}) is None
    )
    job = services.webhook_notify(
        owner_id=user.pk, event="document.completed", payload={"document_id": 3}
    )
    assert job.queue == "low"
    assert job.max_retries == 5
    assert job.params["body"]["data"] == {"document_id": 3}
    services.webhook_endpoint_update(endpoint=endpoint, is_active=False)
    assert services.webhook_notify(owner_id=user.pk, event="x", payload={}) is None


def test_completion_and_failure_of_documents_and_receipts_notify(user, endpoint):
    document = DocumentFactory(collection__owner=user, status="processing")
    services.document_mark_failed(document_id=document.pk, error="bad")
    receipt = ReceiptFactory(owner=user)
    services.receipt_mark_failed(receipt_id=receipt.pk, error="unreadable")
    events = [job.params["event"] for job in webhook_jobs()]
    assert sorted(events) == ["document.failed", "receipt.failed"]


def test_delivery_is_signed_and_verifiable_by_the_receiver(user, endpoint, web):
    job = services.webhook_notify(
        owner_id=user.pk, event="document.completed", payload={"document_id": 3}
    )
    result = deliver(job)
    assert result == {"delivered": True, "status": 200, "attempt": 1}
    (received,) = web.hooks()
    assert received.headers[EVENT_HEADER] == "document.completed"
    assert received.headers[DELIVERY_HEADER] == job.params["event_id"]
    assert verify(
        received.body,
        secret=endpoint.secret,
        signature=received.headers[SIGNATURE_HEADER],
        timestamp=received.headers[TIMESTAMP_HEADER],
    )
    assert not verify(
        received.body,
        secret="wrong",
        signature=received.headers[SIGNATURE_HEADER],
        timestamp=received.headers[TIMESTAMP_HEADER],
    )
    body = json.loads(received.body)
    assert body["event"] == "document.completed"
    assert body["data"] == {"document_id": 3}
    (row,) = WebhookDelivery.objects.all()
    assert (row.outcome, row.response_status, row.attempt) == ("delivered", 200, 1)


def test_a_5xx_answer_is_retried_and_logged_per_attempt(user, endpoint, web):
    web.hook_statuses = [503, 429]
    job = services.webhook_notify(
        owner_id=user.pk, event="receipt.completed", payload={}
    )
    with pytest.raises(WebhookUnavailable, match="503"):
        deliver(job, attempt=1)
    with pytest.raises(WebhookUnavailable, match="429"):
        deliver(job, attempt=2)
    deliver(job, attempt=3)
    outcomes = list(
        WebhookDelivery.objects.order_by("attempt").values_list("attempt", "outcome")
    )
    assert outcomes == [(1, "retrying"), (2, "retrying"), (3, "delivered")]
    event_ids = {json.loads(item.body)["id"] for item in web.hooks()}
    assert len(event_ids) == 1  # the same event each time: receivers can dedupe


def test_the_last_attempt_is_logged_as_failed(user, endpoint, web):
    web.hook_statuses = [500]
    job = services.webhook_notify(owner_id=user.pk, event="x", payload={})
    with pytest.raises(WebhookUnavailable):
        deliver(job, attempt=6, is_last_attempt=True)
    assert WebhookDelivery.objects.get().outcome == "failed"


def test_a_4xx_answer_fails_for_good(user, endpoint, web):
    web.hook_statuses = [410]
    job = services.webhook_notify(owner_id=user.pk, event="x", payload={})
    with pytest.raises(PermanentJobError, match="HTTP 410"):
        deliver(job)
    assert WebhookDelivery.objects.get().outcome == "failed"


def test_an_endpoint_pointing_inside_is_never_contacted(user, endpoint, web, settings):
    """Delivery re-checks the address: loopback is refused once no longer allowed."""
    settings.DOCUMENTS_OUTBOUND_ALLOWED_NETWORKS = []
    job = services.webhook_notify(owner_id=user.pk, event="x", payload={})
    with pytest.raises(PermanentJobError, match="loopback"):
        deliver(job)
    assert web.hooks() == []
    assert WebhookDelivery.objects.get().outcome == "failed"


def test_a_switched_off_endpoint_gets_only_tests(user, endpoint, web):
    job = services.webhook_notify(owner_id=user.pk, event="x", payload={})
    services.webhook_endpoint_update(endpoint=endpoint, is_active=False)
    assert deliver(job)["delivered"] is False
    test_job = services.webhook_send_test(endpoint=endpoint, sent_by=user)
    assert test_job.max_retries == 0
    assert deliver(test_job)["delivered"] is True
    assert [json.loads(item.body)["event"] for item in web.hooks()] == ["webhook.test"]
