"""Factories of the job engine's models."""

import uuid

import factory
from django.utils import timezone

from jobs.models import Dashboard
from jobs.models import FailureGroup
from jobs.models import JobDispatch
from jobs.models import MetricsSnapshot
from jobs.models import ProcessingJob
from jobs.models import QueueState
from jobs.models import WebhookDelivery
from jobs.models import WebhookEndpoint


class ProcessingJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcessingJob

    job_type = "jobs.diagnostic"
    queue = "default"
    priority = 5
    params = factory.LazyFunction(dict)


class JobDispatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobDispatch

    job = factory.SubFactory(ProcessingJobFactory)
    task_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    generation = factory.Sequence(lambda n: n + 1)
    reason = "retry"


class QueueStateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QueueState
        django_get_or_create = ["name"]

    name = factory.Iterator(["high", "medium", "low", "default", "video"])
    is_paused = True
    paused_at = factory.LazyFunction(timezone.now)


class MetricsSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetricsSnapshot

    counts_by_status = factory.LazyFunction(lambda: {"queued": 1, "completed": 2})
    queue_depths = factory.LazyFunction(lambda: {"default": {"waiting": 1}})
    type_stats = factory.LazyFunction(list)


class DashboardFactory(QueueStateFactory):
    """A queue row (the dashboard is a proxy of QueueState with no rows of its own)."""

    class Meta:
        model = Dashboard
        django_get_or_create = ["name"]


class FailureGroupFactory(factory.django.DjangoModelFactory):
    """A failed job (failure groups are a proxy of ProcessingJob)."""

    class Meta:
        model = FailureGroup

    job_type = "jobs.diagnostic"
    queue = "default"
    status = ProcessingJob.Status.FAILED
    attempts = 1
    error_message = factory.Sequence(lambda n: f"OSError: disk full at /media/{n}.jpg")
    completed_at = factory.LazyFunction(timezone.now)


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    owner = factory.SubFactory(
        "jobs.tests.factories.UserFactory",
    )
    url = factory.Sequence(lambda n: f"https://hooks.example.com/{n}")
    secret = factory.Sequence(lambda n: f"whsec_test_{n}")
    events = factory.LazyFunction(lambda: ["job.completed", "job.failed"])


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    owner = factory.SelfAttribute("endpoint.owner")
    job = factory.SubFactory(ProcessingJobFactory)
    event = "job.completed"
    event_id = factory.LazyFunction(uuid.uuid4)
    url = factory.SelfAttribute("endpoint.url")
    attempt = 1
    outcome = WebhookDelivery.Outcome.DELIVERED
    response_status = 204


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "auth.User"
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"owner{n}")
