import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ProcessingJob(models.Model):
    """One unit of background work; the database row, not Redis, is the record."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        RETRYING = "retrying", "Retrying"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING, Status.RETRYING)
    FINISHED_STATUSES = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job_type = models.CharField(max_length=100)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL
    )
    object_id = models.CharField(max_length=64, blank=True, default="")
    target = GenericForeignKey("content_type", "object_id")
    queue = models.CharField(max_length=64)
    priority = models.PositiveSmallIntegerField(
        default=5,
        validators=[MaxValueValidator(9)],
        help_text="0-9, 9 is the most urgent.",
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)]
    )
    progress_message = models.CharField(max_length=255, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    max_retries = models.PositiveIntegerField(default=3)
    # Bumped on every (re)send; a message carries the value it was sent with,
    # so a stale or duplicate message cannot claim the job a second time.
    dispatch_generation = models.PositiveIntegerField(default=0)
    # The Celery task id of the latest send. The first send uses the job's
    # id; each later one gets its own (JobDispatch keeps them), so an id that
    # a Celery tool revoked never blocks a later retry.
    task_id = models.CharField(max_length=64, blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    error_message = models.TextField(blank=True, default="")
    traceback = models.TextField(blank=True, default="")
    attempt_log = models.JSONField(default=list, blank=True)
    worker = models.CharField(max_length=255, blank=True, default="")
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # NULL, not "": the unique-among-active constraint must ignore jobs without a key.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["-queued_at"]
        # Every status change rewrites an entry in each index (the updated
        # columns are indexed, so no HOT update): keep only the indexes the
        # admin, API, watchdog and cleanup need, and keep keyless jobs out of
        # the idempotency indexes.
        indexes = [
            models.Index(fields=["status", "job_type"], name="job_status_type_idx"),
            models.Index(fields=["queue", "status"], name="job_queue_status_idx"),
            models.Index(fields=["content_type", "object_id"], name="job_target_idx"),
            models.Index(
                fields=["status", "completed_at"], name="job_status_completed_idx"
            ),
            models.Index(fields=["-queued_at"], name="job_queued_at_idx"),
            models.Index(fields=["task_id"], name="job_task_id_idx"),
            # Waiting jobs per queue, oldest first (dashboard, /metrics,
            # overdue jobs). Partial: a job enters it once, when queued, and
            # leaves it when claimed, so it stays small and costs the hot
            # path one index entry per send.
            models.Index(
                fields=["queue", "queued_at"],
                condition=Q(status__in=["queued", "retrying"]),
                name="job_waiting_queue_idx",
            ),
            models.Index(
                fields=["idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="job_idempotency_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=Q(
                    idempotency_key__isnull=False,
                    status__in=["queued", "running", "retrying"],
                ),
                name="job_idempotency_key_unique_active",
            ),
            models.CheckConstraint(
                condition=Q(priority__lte=9), name="job_priority_0_9"
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="job_progress_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job_type} {self.id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.completed_at:
            return (self.completed_at - self.started_at).total_seconds()
        return None


class JobDispatch(models.Model):
    """A resend of a job under a new Celery task id (retry, watchdog, drain).

    The first send needs no row: its task id is the job's id.
    """

    task_id = models.CharField(max_length=64, primary_key=True)
    job = models.ForeignKey(
        ProcessingJob, on_delete=models.CASCADE, related_name="dispatches"
    )
    generation = models.PositiveIntegerField()
    reason = models.CharField(max_length=32)
    dispatched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["job", "generation"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "generation"], name="dispatch_unique_generation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_id} (job {self.job_id}, generation {self.generation})"


class QueueState(models.Model):
    """The durable pause flag of one queue; workers read it when they start."""

    name = models.CharField(max_length=64, primary_key=True)
    is_paused = models.BooleanField(default=False)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "queue"

    def __str__(self) -> str:
        return self.name


class MetricsSnapshot(models.Model):
    """Job counts and queue depths at one moment, taken by the periodic task."""

    taken_at = models.DateTimeField(default=timezone.now, db_index=True)
    counts_by_status = models.JSONField(default=dict)
    queue_depths = models.JSONField(default=dict)
    type_stats = models.JSONField(default=list)

    class Meta:
        ordering = ["-taken_at"]

    def __str__(self) -> str:
        return f"metrics at {self.taken_at:%Y-%m-%d %H:%M}"


# OPERATIONS ---------------------------------------------------------------
# Models of the operator's view: progress history, webhooks, and the admin
# pages that have no table of their own (proxies).


class JobProgressStep(models.Model):
    """A progress report worth keeping for a job's timeline (phase changes, each tenth)."""

    job = models.ForeignKey(
        ProcessingJob, on_delete=models.CASCADE, related_name="progress_steps"
    )
    task_id = models.CharField(max_length=64, blank=True, default="")
    percent = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)]
    )
    message = models.CharField(max_length=255, blank=True, default="")
    reported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["job", "reported_at", "id"]
        indexes = [
            models.Index(fields=["job", "reported_at"], name="job_progress_step_idx")
        ]

    def __str__(self) -> str:
        return f"{self.job_id} {self.percent}% {self.message}"


class WebhookEndpoint(models.Model):
    """Where an owner's job outcomes are POSTed, signed with `secret` (HMAC-SHA256)."""

    class Event(models.TextChoices):
        COMPLETED = "job.completed", "Job completed"
        FAILED = "job.failed", "Job failed for good"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="job_webhook_endpoints",
    )
    url = models.URLField(max_length=2000)
    # Kept in clear: signing needs it.
    secret = models.CharField(max_length=80)
    events = models.JSONField(
        default=list, help_text="Events sent: job.completed, job.failed."
    )
    job_types = models.JSONField(
        default=list, blank=True, help_text="Only these job types; empty: every type."
    )
    description = models.CharField(max_length=200, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["owner", "id"]
        indexes = [
            models.Index(
                fields=["owner"],
                condition=Q(is_active=True),
                name="job_webhook_active_owner_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.url} ({self.owner_id})"


class WebhookDelivery(models.Model):
    """One attempt to deliver one job-outcome event: what was sent where, and how it went."""

    class Outcome(models.TextChoices):
        DELIVERED = "delivered", "Delivered"
        RETRYING = "retrying", "Failed, will retry"
        FAILED = "failed", "Failed for good"

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="job_webhook_deliveries",
    )
    # The job the event is about; its row may be deleted by the retention.
    job = models.ForeignKey(
        ProcessingJob,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhook_deliveries",
    )
    event = models.CharField(max_length=32, choices=WebhookEndpoint.Event.choices)
    event_id = models.UUIDField()
    url = models.CharField(max_length=2000)
    attempt = models.PositiveIntegerField()
    delivery_job_id = models.UUIDField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["endpoint", "-created_at"], name="job_webhook_delivery_idx"
            ),
            models.Index(fields=["event_id"], name="job_webhook_event_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.attempt} -> {self.url} ({self.outcome})"


class Dashboard(QueueState):
    """The operator's dashboard in the admin (no table: queues, workers, stuck jobs)."""

    class Meta:
        proxy = True
        verbose_name = "dashboard"
        verbose_name_plural = "dashboard"


class FailureGroup(ProcessingJob):
    """Failed jobs grouped by error signature, in the admin (no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "failure group"
        verbose_name_plural = "failure groups"
