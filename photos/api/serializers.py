"""Input validation and output shape of the photos API (shape only: services decide)."""

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inputs.fields import ClientDateTimeField
from photos import export as export_module
from photos import presets as preset_rules
from photos import selectors
from photos.errors import InvalidSettings
from photos.models import Export
from photos.models import Photo
from photos.models import PhotoSession
from photos.models import Preset
from photos.models import SimilarGroup


def _file_url(
    serializer: serializers.Serializer, name: str, pk: int, *, present
) -> str | None:
    """The authenticated API route serving a stored file, or None while there is none."""
    if not present:
        return None
    url = reverse(f"api:{name}", kwargs={"pk": pk})
    request = serializer.context.get("request")
    return request.build_absolute_uri(url) if request is not None else url


@extend_schema_field(OpenApiTypes.INT)
class VisibleSessionField(serializers.PrimaryKeyRelatedField):
    """A session id the requesting user owns."""

    def get_queryset(self):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return (
            PhotoSession.objects.filter(owner=user)
            if user
            else PhotoSession.objects.none()
        )


@extend_schema_field(OpenApiTypes.INT)
class PresetUsableField(serializers.PrimaryKeyRelatedField):
    """A preset id the requesting user may use (shared or theirs)."""

    def get_queryset(self):
        request = self.context.get("request")
        return selectors.preset_list(user=getattr(request, "user", None))


# PHOTOS -------------------------------------------------------------------


class PhotoSerializer(serializers.ModelSerializer):
    session_name = serializers.CharField(
        source="session.name", read_only=True, allow_null=True, default=None
    )
    preset_name = serializers.CharField(
        source="preset.name", read_only=True, allow_null=True, default=None
    )
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    original_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    preview_url = serializers.SerializerMethodField()
    developed_url = serializers.SerializerMethodField()
    sidecar_url = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = [
            "id",
            "owner",
            "session",
            "session_name",
            "original_name",
            "sha256",
            "format",
            "content_type",
            "size_bytes",
            "width",
            "height",
            "status",
            "error_message",
            "created_at",
            "taken_at",
            "taken_at_source",
            "taken_at_offset_known",
            "camera_make",
            "camera_model",
            "lens",
            "focal_length_mm",
            "aperture_f",
            "shutter_s",
            "iso",
            "gps_lat",
            "gps_lon",
            "orientation",
            "flash_fired",
            "sharpness",
            "exposure_ev",
            "noise",
            "contrast",
            "faces",
            "score",
            "context_labels",
            "phash",
            "analyzed_at",
            "group",
            "is_best_in_group",
            "preset",
            "preset_name",
            "preset_chosen_by_user",
            "developed_preset",
            "developed_at",
            "original_url",
            "thumbnail_url",
            "preview_url",
            "developed_url",
            "sidecar_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_original_url(self, photo: Photo) -> str | None:
        return _file_url(self, "photo-original", photo.pk, present=photo.original)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_thumbnail_url(self, photo: Photo) -> str | None:
        return _file_url(self, "photo-thumbnail", photo.pk, present=photo.thumbnail)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_preview_url(self, photo: Photo) -> str | None:
        return _file_url(self, "photo-preview", photo.pk, present=photo.preview)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_developed_url(self, photo: Photo) -> str | None:
        return _file_url(self, "photo-developed", photo.pk, present=photo.developed)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_sidecar_url(self, photo: Photo) -> str | None:
        return _file_url(self, "photo-sidecar", photo.pk, present=photo.sidecar)


class PhotoDetailSerializer(PhotoSerializer):
    """A photo with all of its EXIF, quality measures and analysis stages."""

    class Meta(PhotoSerializer.Meta):
        fields = [*PhotoSerializer.Meta.fields, "exif", "quality", "analysis"]
        read_only_fields = fields


class PhotoUploadSerializer(serializers.Serializer):
    """One or more files (multipart field `files`, or `file`), into a session of the user's."""

    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True, use_url=False),
        required=False,
        help_text="One or more photos: JPEG, PNG, WebP, TIFF, HEIC/HEIF or camera RAW.",
    )
    file = serializers.FileField(required=False, allow_empty_file=True, use_url=False)
    session = VisibleSessionField(required=False, allow_null=True)
    session_name = serializers.CharField(
        required=False,
        max_length=200,
        help_text="A session of yours by name, created if missing.",
    )

    def validate(self, attrs):
        files = [
            *attrs.pop("files", []),
            *([attrs.pop("file")] if "file" in attrs else []),
        ]
        if not files:
            raise serializers.ValidationError(
                {"files": "send one or more photos in the multipart field 'files'"}
            )
        limit = settings.PHOTOS_MAX_FILES_PER_UPLOAD
        if len(files) > limit:
            raise serializers.ValidationError(
                {"files": f"{len(files)} files in one request; the limit is {limit}"}
            )
        if attrs.get("session") and attrs.get("session_name"):
            raise serializers.ValidationError(
                "give either session or session_name, not both"
            )
        attrs["files"] = files
        return attrs


class PhotoUpdateSerializer(serializers.Serializer):
    session = VisibleSessionField(required=False, allow_null=True)
    taken_at = ClientDateTimeField(
        required=False,
        allow_null=True,
        help_text="Corrects the camera's clock; null returns to the EXIF time.",
    )


class PhotoFileOutcomeSerializer(serializers.Serializer):
    """One file of an upload: the photo stored (or found again), or why it was refused."""

    name = serializers.CharField()
    status = serializers.IntegerField(
        help_text="201 stored, 200 already stored, else 4xx"
    )
    duplicate = serializers.BooleanField(required=False)
    photo = PhotoSerializer(required=False)
    error = serializers.CharField(required=False)
    detail = serializers.CharField(required=False)


class PhotoUploadResultSerializer(serializers.Serializer):
    files = PhotoFileOutcomeSerializer(many=True)
    stored = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    refused = serializers.IntegerField()


class PhotoAnalyzeSerializer(serializers.Serializer):
    config = serializers.JSONField(
        required=False,
        help_text='{"apply_preset": bool, "timezone": "Europe/Paris"}',
    )


class PhotoPresetChoiceSerializer(serializers.Serializer):
    preset = PresetUsableField(allow_null=True, help_text="null clears the choice")


class JobQueuedSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    job_id = serializers.CharField()
    job_type = serializers.CharField()
    queue = serializers.CharField()
    priority = serializers.IntegerField()
    status = serializers.CharField()
    created = serializers.BooleanField(
        help_text="False: a job already queued or running is answered"
    )


# SESSIONS AND GROUPS ------------------------------------------------------


class PhotoSessionSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    photo_count = serializers.IntegerField(read_only=True, default=0)
    group_count = serializers.IntegerField(read_only=True, default=0)
    counts = serializers.SerializerMethodField()

    class Meta:
        model = PhotoSession
        fields = [
            "id",
            "owner",
            "name",
            "created_at",
            "grouped_at",
            "photo_count",
            "group_count",
            "counts",
        ]
        read_only_fields = ["id", "owner", "created_at", "grouped_at"]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                status: {"type": "integer"} for status in Photo.Status.values
            },
        }
    )
    def get_counts(self, session: PhotoSession) -> dict[str, int]:
        return {
            status: getattr(session, f"{status}_count", 0)
            for status in Photo.Status.values
        }


class PhotoSessionWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class SessionProcessSerializer(serializers.Serializer):
    auto_select = serializers.BooleanField(
        default=True,
        help_text="Develop each photo with the preset its rules select once analysed.",
    )


class BatchSubmittedSerializer(serializers.Serializer):
    submitted = serializers.IntegerField()
    task_ids = serializers.ListField(child=serializers.CharField())
    already_queued = serializers.DictField(
        child=serializers.CharField(),
        help_text="photo id -> task id of the analysis already queued or running",
    )


class SimilarGroupSerializer(serializers.ModelSerializer):
    photos = serializers.SerializerMethodField()
    session_name = serializers.CharField(source="session.name", read_only=True)

    class Meta:
        model = SimilarGroup
        fields = [
            "id",
            "session",
            "session_name",
            "position",
            "best_photo",
            "photo_count",
            "first_taken_at",
            "created_at",
            "photos",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "score": {"type": "number", "nullable": True},
                    "is_best_in_group": {"type": "boolean"},
                    "taken_at": {
                        "type": "string",
                        "format": "date-time",
                        "nullable": True,
                    },
                },
            },
        }
    )
    def get_photos(self, group: SimilarGroup) -> list[dict]:
        return [
            {
                "id": photo.pk,
                "score": photo.score,
                "is_best_in_group": photo.is_best_in_group,
                "taken_at": photo.taken_at,
            }
            for photo in group.photos.all()
        ]


# PRESETS ------------------------------------------------------------------


class PresetSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    is_shared = serializers.BooleanField(read_only=True)

    class Meta:
        model = Preset
        fields = [
            "id",
            "name",
            "description",
            "owner",
            "is_shared",
            "adjustments",
            "rules",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


def _validated(check, value):
    try:
        return check(value)
    except InvalidSettings as exc:
        raise serializers.ValidationError(
            exc.extra.get("problems") or exc.detail
        ) from None


class PresetWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True)
    adjustments = serializers.JSONField(
        required=False,
        help_text="; ".join(
            f"{a.name} {a.minimum:g}..{a.maximum:g}"
            for a in preset_rules.ADJUSTMENTS.values()
        ),
    )
    rules = serializers.JSONField(
        required=False,
        help_text="list of {labels_all, labels_any, labels_none, min_score, max_score, weight}",
    )
    is_active = serializers.BooleanField(required=False)
    shared = serializers.BooleanField(
        required=False, default=False, help_text="staff only: a preset for every user"
    )

    def validate_adjustments(self, value):
        return _validated(preset_rules.validate_adjustments, value)

    def validate_rules(self, value):
        return _validated(preset_rules.validate_rules, value)


# EXPORTS ------------------------------------------------------------------


class ExportSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()
    preset_name = serializers.CharField(
        source="preset.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Export
        fields = [
            "id",
            "public_id",
            "photo",
            "preset",
            "preset_name",
            "adjustments",
            "format",
            "quality",
            "long_edge",
            "keep_metadata",
            "strip_gps",
            "status",
            "error_message",
            "size_bytes",
            "width",
            "height",
            "icc_profile_kept",
            "created_at",
            "completed_at",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_download_url(self, export: Export) -> str | None:
        return _file_url(self, "export-download", export.pk, present=export.file)


@extend_schema_field(OpenApiTypes.INT)
class VisiblePhotoField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        request = self.context.get("request")
        return selectors.photo_list(user=getattr(request, "user", None))


class ExportFormatField(serializers.ChoiceField):
    """JPEG, WEBP, PNG or AVIF, in any case; JPG means JPEG."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = "JPEG" if data.upper() == "JPG" else data.upper()
        return super().to_internal_value(data)


class ExportCreateSerializer(serializers.Serializer):
    photo = VisiblePhotoField()
    preset = PresetUsableField(
        required=False,
        allow_null=True,
        help_text="Left out: the photo's own preset; null: undeveloped.",
    )
    format = ExportFormatField(choices=Export.Format.choices, default="JPEG")
    quality = serializers.IntegerField(min_value=1, max_value=100, default=90)
    long_edge = serializers.IntegerField(
        min_value=export_module.MIN_LONG_EDGE,
        max_value=export_module.MAX_LONG_EDGE,
        required=False,
        allow_null=True,
        help_text="Left out or null: full size (never enlarged).",
    )
    keep_metadata = serializers.BooleanField(default=True)
    strip_gps = serializers.BooleanField(default=True)
