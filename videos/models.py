"""Videos, their renditions and encoding profiles, and uploads on their way in."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

X264_PRESETS = [
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
]


class Video(models.Model):
    """An uploaded video: its original file, what its header says, derived pictures."""

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class UploadMethod(models.TextChoices):
        TUS = "tus", "tus (resumable)"
        MULTIPART = "multipart", "Multipart (initiate, parts, complete)"
        DIRECT = "direct", "One request"
        IMPORT = "import", "Imported by an operator"

    # A UUID, so the storage names of its files can be chosen before the row exists.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="videos"
    )
    title = models.CharField(max_length=200, blank=True, default="")
    original = models.FileField(max_length=255)
    original_filename = models.CharField(max_length=255, blank=True, default="")
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    upload_method = models.CharField(
        max_length=16, choices=UploadMethod.choices, default=UploadMethod.DIRECT
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PROCESSING
    )
    error_message = models.TextField(blank=True, default="")
    # What the header says (read with PyAV); the whole reading is in `metadata`.
    container = models.CharField(max_length=16, blank=True, default="")
    duration_s = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    video_codec = models.CharField(max_length=32, blank=True, default="")
    audio_codec = models.CharField(max_length=32, blank=True, default="")
    rotation = models.PositiveSmallIntegerField(null=True, blank=True)
    bitrate = models.BigIntegerField(null=True, blank=True)
    creation_time = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    metadata_read_at = models.DateTimeField(null=True, blank=True)
    # Made by the thumbnail job: one exact frame, and a grid of several.
    thumbnail = models.FileField(max_length=255, blank=True, default="")
    thumbnail_at_s = models.FloatField(null=True, blank=True)
    contact_sheet = models.FileField(max_length=255, blank=True, default="")
    contact_sheet_times_s = models.JSONField(default=list, blank=True)
    thumbnail_error = models.TextField(blank=True, default="")
    # Made by the analysis job: scene cuts and what sampled frames show.
    timeline = models.JSONField(default=dict, blank=True)
    analyzed_at = models.DateTimeField(null=True, blank=True)
    analysis_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["owner", "-created_at"], name="video_owner_created_idx"
            ),
            models.Index(fields=["status"], name="video_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(size_bytes__gte=0), name="video_size_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.original_filename or str(self.id)

    @property
    def display_size(self) -> tuple[int, int] | None:
        """Width and height as shown (rotation applied), if known."""
        if not self.width or not self.height:
            return None
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height


class EncodingProfile(models.Model):
    """How a rendition is encoded: H.264 (yuv420p) + AAC in MP4 with +faststart."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    height = models.PositiveIntegerField(
        default=480,
        validators=[MinValueValidator(16), MaxValueValidator(4320)],
        help_text="Lines of the output; a lower source keeps its own (never upscaled).",
    )
    fps = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    preset = models.CharField(
        max_length=16,
        default="veryfast",
        choices=[(preset, preset) for preset in X264_PRESETS],
        help_text="x264 speed/size trade-off.",
    )
    crf = models.PositiveSmallIntegerField(
        default=23,
        validators=[MaxValueValidator(51)],
        help_text="x264 constant quality: lower is better and bigger.",
    )
    keyframe_interval_s = models.FloatField(
        default=2.0, validators=[MinValueValidator(0.1), MaxValueValidator(60)]
    )
    audio_bitrate = models.PositiveIntegerField(
        default=128_000,
        validators=[MinValueValidator(16_000), MaxValueValidator(512_000)],
        help_text="AAC, bits per second.",
    )
    max_audio_channels = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    is_default = models.BooleanField(
        default=False,
        help_text="The proxy: played in the admin, its job is an upload's processing job.",
    )
    is_auto = models.BooleanField(default=False, help_text="Made for every new video.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "height", "slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="encoding_profile_one_default",
            ),
            models.CheckConstraint(
                condition=~Q(is_default=True) | Q(is_active=True),
                name="encoding_profile_default_is_active",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Rendition(models.Model):
    """A video encoded by one profile: the file, its state and what it turned out to be."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Method(models.TextChoices):
        ENCODE = "encode", "Encoded"
        COPY = "copy", "Streams copied (no re-encoding)"
        SKIP = "skip", "Skipped: the original is one"

    video = models.ForeignKey(
        Video, on_delete=models.CASCADE, related_name="renditions"
    )
    profile = models.ForeignKey(
        EncodingProfile, on_delete=models.PROTECT, related_name="renditions"
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    progress = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)]
    )
    method = models.CharField(max_length=8, choices=Method.choices, blank=True)
    # Empty when skipped: the original file serves as the rendition.
    file = models.FileField(max_length=255, blank=True, default="")
    size_bytes = models.BigIntegerField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # The latest job that made (or makes) this rendition.
    job_id = models.UUIDField(null=True, blank=True)
    error_message = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["video", "profile__height", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["video", "profile"], name="rendition_one_per_profile"
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="rendition_progress_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.video} — {self.profile}"

    @property
    def is_playable(self) -> bool:
        return self.status == self.Status.READY


class Upload(models.Model):
    """An upload on its way in (tus or multipart); it becomes a Video once verified."""

    class Protocol(models.TextChoices):
        TUS = "tus", "tus"
        MULTIPART = "multipart", "Multipart"

    class Status(models.TextChoices):
        RECEIVING = "receiving", "Receiving"
        ASSEMBLING = "assembling", "Assembling"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        ABORTED = "aborted", "Aborted"
        EXPIRED = "expired", "Expired"

    ACTIVE_STATUSES = (Status.RECEIVING, Status.ASSEMBLING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="video_uploads"
    )
    protocol = models.CharField(max_length=16, choices=Protocol.choices)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.RECEIVING
    )
    filename = models.CharField(max_length=255, blank=True, default="")
    title = models.CharField(max_length=200, blank=True, default="")
    size_bytes = models.BigIntegerField()
    # tus: bytes received in order; multipart: bytes of the parts received.
    received_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(
        max_length=64, blank=True, default="", help_text="Expected, if the client said."
    )
    part_size_bytes = models.BigIntegerField(null=True, blank=True)
    part_count = models.PositiveIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    error_message = models.TextField(blank=True, default="")
    video = models.OneToOneField(
        Video,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="upload",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["status", "expires_at"], name="upload_status_expiry_idx"
            ),
            models.Index(
                fields=["owner", "-created_at"], name="upload_owner_created_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(size_bytes__gte=0), name="upload_size_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(received_bytes__gte=0)
                & Q(received_bytes__lte=models.F("size_bytes")),
                name="upload_received_within_size",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.protocol} upload {self.id} ({self.status})"

    @property
    def progress_percent(self) -> int:
        if not self.size_bytes:
            return 100 if self.status == self.Status.COMPLETED else 0
        return min(100, int(self.received_bytes * 100 / self.size_bytes))


class UploadPart(models.Model):
    """One stored piece of an upload: a tus PATCH body, or a multipart part."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="parts")
    # Multipart: the part number (1..part_count); tus: the order received.
    number = models.PositiveIntegerField()
    offset_bytes = models.BigIntegerField()
    size_bytes = models.BigIntegerField()
    # Multipart parts only: tus pieces are hashed as a whole when assembled.
    sha256 = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=255, help_text="Storage name of the piece.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["upload", "offset_bytes"]
        constraints = [
            models.UniqueConstraint(
                fields=["upload", "number"], name="upload_part_unique_number"
            ),
        ]

    def __str__(self) -> str:
        return f"part {self.number} of {self.upload_id}"
