"""Sessions of photos, photos with their analysis, similar groups, presets and exports."""

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from photos import export as export_module
from photos import presets as preset_rules
from photos.errors import InvalidSettings

SCORE_MIN = 1.0
SCORE_MAX = 5.0


def original_upload_to(photo: "Photo", filename: str) -> str:
    """Originals are named by owner and content hash: one stored file per photo."""
    suffix = PurePosixPath(filename).suffix.lower()[:8]
    return (
        f"photos/originals/{photo.owner_id}/{photo.sha256[:2]}/{photo.sha256}{suffix}"
    )


def derived_upload_to(instance: models.Model, filename: str) -> str:
    """Derived files carry the name the service chose (from the row's id)."""
    return f"photos/{filename}"


class PhotoSession(models.Model):
    """A shoot or an import: the photos grouped and processed together."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="photo_sessions",
    )
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    grouped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], name="photo_session_owner_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class SimilarGroup(models.Model):
    """Similar photos of a session (pHash and taken-at window), with the best one."""

    session = models.ForeignKey(
        PhotoSession, on_delete=models.CASCADE, related_name="groups"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="photo_groups",
    )
    position = models.PositiveIntegerField(default=0)
    best_photo = models.ForeignKey(
        "Photo",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    photo_count = models.PositiveIntegerField(default=0)
    first_taken_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["session", "position", "id"]

    def __str__(self) -> str:
        return f"group {self.position + 1} of {self.session}"


class Preset(models.Model):
    """Development adjustments and the rules that select them by context and score.

    A preset without an owner is shared: every user's photos may be developed
    with it and it takes part in their automatic selection; only staff edit it.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="photo_presets",
    )
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    adjustments = models.JSONField(default=dict, blank=True)
    rules = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], name="photo_preset_owner_name_unique"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(owner__isnull=True),
                name="photo_preset_shared_name_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        problems = {}
        try:
            self.adjustments = preset_rules.validate_adjustments(self.adjustments)
        except InvalidSettings as exc:
            problems["adjustments"] = exc.extra.get("problems") or [exc.detail]
        try:
            self.rules = preset_rules.validate_rules(self.rules)
        except InvalidSettings as exc:
            problems["rules"] = exc.extra.get("problems") or [exc.detail]
        if problems:
            raise ValidationError(problems)

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None


class Photo(models.Model):
    """One photo: the original as imported, its EXIF, quality, context and derived files."""

    class Status(models.TextChoices):
        # Pending until an analysis succeeds; a re-analysis of an analysed
        # photo leaves it analysed (its results stay valid meanwhile).
        PENDING = "pending", "Pending"
        ANALYZED = "analyzed", "Analyzed"
        FAILED = "failed", "Failed"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="photos"
    )
    session = models.ForeignKey(
        PhotoSession,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="photos",
    )
    original = models.FileField(upload_to=original_upload_to, max_length=255)
    original_name = models.CharField(max_length=255, blank=True, default="")
    sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=16)
    content_type = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(help_text="After EXIF orientation.")
    height = models.PositiveIntegerField(help_text="After EXIF orientation.")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    error_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    # EXIF: all of it as JSON, and the key fields.
    exif = models.JSONField(default=dict, blank=True)
    taken_at = models.DateTimeField(null=True, blank=True)
    # "exif" (the camera's clock), "client" (corrected through the API) or "".
    taken_at_source = models.CharField(max_length=8, blank=True, default="")
    taken_at_offset_known = models.BooleanField(default=False)
    camera_make = models.CharField(max_length=100, blank=True, default="")
    camera_model = models.CharField(max_length=100, blank=True, default="")
    lens = models.CharField(max_length=200, blank=True, default="")
    focal_length_mm = models.FloatField(null=True, blank=True)
    aperture_f = models.FloatField(null=True, blank=True)
    shutter_s = models.FloatField(null=True, blank=True)
    iso = models.PositiveIntegerField(null=True, blank=True)
    gps_lat = models.FloatField(null=True, blank=True)
    gps_lon = models.FloatField(null=True, blank=True)
    orientation = models.PositiveSmallIntegerField(default=1)
    flash_fired = models.BooleanField(null=True, blank=True)
    exif_read_at = models.DateTimeField(null=True, blank=True)

    # Quality (photos.quality documents the measures and the score formula).
    sharpness = models.FloatField(null=True, blank=True)
    exposure_ev = models.FloatField(null=True, blank=True)
    noise = models.FloatField(null=True, blank=True)
    contrast = models.FloatField(null=True, blank=True)
    faces = models.PositiveIntegerField(null=True, blank=True)
    score = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)],
    )
    quality = models.JSONField(default=dict, blank=True)
    context_labels = models.JSONField(default=list, blank=True)
    # "\nlabel\n..." so one label is found with a plain substring filter on
    # every database (JSON list containment is not portable).
    context_index = models.CharField(max_length=200, blank=True, default="")
    phash = models.CharField(max_length=16, blank=True, default="")
    analysis = models.JSONField(default=dict, blank=True)
    analyzed_at = models.DateTimeField(null=True, blank=True)

    group = models.ForeignKey(
        SimilarGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="photos",
    )
    is_best_in_group = models.BooleanField(default=False)

    preset = models.ForeignKey(
        Preset,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="photos",
        help_text="Selected by the analysis rules, or chosen by the user.",
    )
    preset_chosen_by_user = models.BooleanField(default=False)

    thumbnail = models.FileField(
        upload_to=derived_upload_to, blank=True, max_length=255
    )
    preview = models.FileField(upload_to=derived_upload_to, blank=True, max_length=255)
    developed = models.FileField(
        upload_to=derived_upload_to, blank=True, max_length=255
    )
    sidecar = models.FileField(upload_to=derived_upload_to, blank=True, max_length=255)
    developed_preset = models.ForeignKey(
        Preset,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Which development the files hold: preset id and adjustments, hashed.
    developed_key = models.CharField(max_length=40, blank=True, default="")
    developed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "sha256"], name="photo_owner_sha256_unique"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True)
                | Q(score__gte=SCORE_MIN, score__lte=SCORE_MAX),
                name="photo_score_1_5",
            ),
        ]
        indexes = [
            models.Index(fields=["session", "status"], name="photo_session_status_idx"),
            models.Index(
                fields=["owner", "-created_at"], name="photo_owner_created_idx"
            ),
            models.Index(fields=["score"], name="photo_score_idx"),
            models.Index(fields=["taken_at"], name="photo_taken_at_idx"),
        ]

    def __str__(self) -> str:
        return self.original_name or f"photo {self.pk}"

    @property
    def camera(self) -> str:
        """Make and model as people write them (the model often repeats the make)."""
        if self.camera_model.lower().startswith(self.camera_make.lower()):
            return self.camera_model
        return f"{self.camera_make} {self.camera_model}".strip()


class Export(models.Model):
    """A rendition of a photo: developed with a preset, resized, encoded, metadata chosen."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RENDERING = "rendering", "Rendering"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    class Format(models.TextChoices):
        JPEG = "JPEG", "JPEG"
        WEBP = "WEBP", "WebP"
        PNG = "PNG", "PNG"
        AVIF = "AVIF", "AVIF"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="photo_exports"
    )
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="exports")
    preset = models.ForeignKey(
        Preset,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="exports",
    )
    # The preset's adjustments when the export was asked for: a later edit
    # of the preset does not change an export already made or queued.
    adjustments = models.JSONField(default=dict, blank=True)
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.JPEG)
    quality = models.PositiveSmallIntegerField(
        default=90, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    long_edge = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[
            MinValueValidator(export_module.MIN_LONG_EDGE),
            MaxValueValidator(export_module.MAX_LONG_EDGE),
        ],
        help_text="Empty: full size.",
    )
    keep_metadata = models.BooleanField(default=True)
    strip_gps = models.BooleanField(default=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    error_message = models.TextField(blank=True, default="")
    file = models.FileField(upload_to=derived_upload_to, blank=True, max_length=255)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    icc_profile_kept = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quality__gte=1, quality__lte=100),
                name="photo_export_quality_1_100",
            )
        ]

    def __str__(self) -> str:
        return f"{self.photo} as {self.format}"

    @property
    def extension(self) -> str:
        return export_module.EXPORT_FORMATS[self.format].extension

    @property
    def content_type(self) -> str:
        return export_module.EXPORT_FORMATS[self.format].content_type
