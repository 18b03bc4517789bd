"""Camera devices, the captures they send, and what the analysers observed in them."""

import secrets
from pathlib import PurePosixPath

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

CAPTURE_ID_PREFIX = "cap_"


def new_capture_id() -> str:
    """An opaque public id: it says nothing about row counts or order."""
    return CAPTURE_ID_PREFIX + secrets.token_hex(12)


def capture_upload_to(instance: "Capture", filename: str) -> str:
    received = instance.received_at or timezone.now()
    extension = PurePosixPath(filename).suffix.lower() or ".bin"
    return (
        f"captures/{instance.device.device_id}/{received:%Y/%m/%d}/"
        f"{instance.public_id}{extension}"
    )


def capture_thumbnail_to(instance: "Capture", filename: str) -> str:
    return f"captures/{instance.device.device_id}/thumbnails/{filename}"


class Device(models.Model):
    """A camera that posts captures, authenticated by its own API key."""

    device_id = models.SlugField(
        max_length=64,
        unique=True,
        help_text='The id the device sends, e.g. "esp32-001".',
    )
    name = models.CharField(max_length=120)
    location = models.CharField(max_length=200, blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="capture_devices",
    )
    is_active = models.BooleanField(default=True)
    # Only the SHA-256 of the key is kept; the key is shown once. Keys are
    # 256 random bits, so a slow password hash would add latency to every
    # ingest without adding safety.
    api_key_hash = models.CharField(max_length=64, editable=False, unique=True)
    api_key_prefix = models.CharField(
        max_length=16, blank=True, default="", editable=False
    )
    api_key_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Keep this device's captures this many days (empty: the default).",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["device_id"]
        indexes = [models.Index(fields=["owner", "device_id"], name="device_owner_idx")]

    def __str__(self) -> str:
        return self.device_id


class Capture(models.Model):
    """One image a device sent; analysed into Observations by the `captures.analyze` job."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    public_id = models.CharField(
        max_length=32, unique=True, default=new_capture_id, editable=False
    )
    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="captures"
    )
    image = models.FileField(upload_to=capture_upload_to, max_length=255)
    # Made once by the analysis job: pages show it without decoding the image.
    thumbnail = models.FileField(
        upload_to=capture_thumbnail_to, max_length=255, blank=True, default=""
    )
    content_type = models.CharField(max_length=32)
    size_bytes = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    captured_at = models.DateTimeField(
        null=True, blank=True, help_text="The device's clock, when it sent one."
    )
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    error_message = models.TextField(blank=True, default="")
    # NULL, not "", for "no key": the unique constraint skips NULLs.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="capture_idempotency_key_unique_per_device",
            ),
        ]
        indexes = [
            models.Index(
                fields=["device", "-received_at"], name="capture_device_received_idx"
            ),
            models.Index(
                fields=["status", "received_at"], name="capture_status_received_idx"
            ),
            models.Index(fields=["device", "sha256"], name="capture_device_sha256_idx"),
            models.Index(fields=["received_at"], name="capture_received_idx"),
        ]

    def __str__(self) -> str:
        return self.public_id


class Observation(models.Model):
    """What one analyser (name + version) saw in a capture; re-running replaces it."""

    capture = models.ForeignKey(
        Capture, on_delete=models.CASCADE, related_name="observations"
    )
    analyzer_name = models.CharField(max_length=64)
    analyzer_version = models.CharField(max_length=32)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    brightness = models.FloatField(null=True, blank=True, help_text="Mean luma, 0-255.")
    sharpness = models.FloatField(
        null=True, blank=True, help_text="Variance of the Laplacian."
    )
    dominant_colors = models.JSONField(default=list, blank=True)
    motion = models.FloatField(
        null=True,
        blank=True,
        help_text="Share of changed pixels against the previous capture.",
    )
    people_count = models.PositiveIntegerField(default=0)
    people = models.JSONField(default=list, blank=True)
    faces_count = models.PositiveIntegerField(default=0)
    faces = models.JSONField(default=list, blank=True)
    codes = models.JSONField(default=list, blank=True)
    text = models.TextField(blank=True, default="")
    text_boxes = models.JSONField(default=list, blank=True)
    labels = models.JSONField(default=list, blank=True)
    remote_labels = models.JSONField(default=list, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    # Newline-framed copies of the code values and labels, so that filters
    # work with plain LIKE on every database (JSON containment doesn't on SQLite).
    code_index = models.TextField(blank=True, default="", editable=False)
    label_index = models.TextField(blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["capture", "analyzer_name", "analyzer_version"],
                name="observation_unique_per_analyzer",
            ),
        ]
        indexes = [
            models.Index(fields=["people_count"], name="observation_people_idx"),
            models.Index(fields=["faces_count"], name="observation_faces_idx"),
            models.Index(fields=["-created_at"], name="observation_created_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.analyzer_name} {self.analyzer_version} on capture {self.capture_id}"
        )
