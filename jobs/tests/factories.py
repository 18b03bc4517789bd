"""Factories of the job engine's models."""

import uuid

import factory
from django.utils import timezone

from jobs.models import JobDispatch
from jobs.models import MetricsSnapshot
from jobs.models import ProcessingJob
from jobs.models import QueueState


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
