"""Input validation and output shape of the videos API."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from videos import selectors
from videos.models import EncodingProfile
from videos.models import Rendition
from videos.models import Upload
from videos.models import Video
from videos.services import JOB_NAMES

CONTENT_TYPES = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "3gp": "video/3gpp",
    "matroska": "video/x-matroska",
    "webm": "video/webm",
    "avi": "video/x-msvideo",
}


def _url(serializer: serializers.Serializer, name: str, **kwargs) -> str:
    path = reverse(f"api:{name}", kwargs=kwargs)
    request = serializer.context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


class RenditionNestedSerializer(serializers.ModelSerializer):
    profile = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    profile_name = serializers.CharField(source="profile.name", read_only=True)
    is_proxy = serializers.BooleanField(source="profile.is_default", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Rendition
        fields = [
            "id",
            "profile",
            "profile_name",
            "is_proxy",
            "status",
            "progress",
            "method",
            "size_bytes",
            "width",
            "height",
            "fps",
            "duration_s",
            "url",
            "job_id",
            "error_message",
            "started_at",
            "completed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_url(self, rendition: Rendition) -> str | None:
        if rendition.status != Rendition.Status.READY:
            return None
        return _url(self, "rendition-file", pk=rendition.pk)


class RenditionSerializer(RenditionNestedSerializer):
    video = serializers.UUIDField(source="video_id", read_only=True)
    video_title = serializers.CharField(source="video.title", read_only=True)

    class Meta(RenditionNestedSerializer.Meta):
        fields = [
            "id",
            "video",
            "video_title",
            *RenditionNestedSerializer.Meta.fields[1:],
            "metadata",
            "created_at",
        ]
        read_only_fields = fields


class RenditionCreateSerializer(serializers.Serializer):
    video = serializers.UUIDField()
    profile = serializers.SlugRelatedField(
        slug_field="slug", queryset=EncodingProfile.objects.filter(is_active=True)
    )


class VideoSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    proxy_url = serializers.SerializerMethodField()

    class Meta:
        model = Video
        fields = [
            "id",
            "url",
            "title",
            "owner",
            "status",
            "error_message",
            "original_filename",
            "upload_method",
            "size_bytes",
            "sha256",
            "container",
            "duration_s",
            "width",
            "height",
            "fps",
            "video_codec",
            "audio_codec",
            "rotation",
            "creation_time",
            "thumbnail_url",
            "proxy_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_url(self, video: Video) -> str:
        return _url(self, "video-detail", pk=video.pk)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_thumbnail_url(self, video: Video) -> str | None:
        return _url(self, "video-thumbnail", pk=video.pk) if video.thumbnail else None

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_proxy_url(self, video: Video) -> str | None:
        proxy = selectors.video_proxy(video=video)
        if proxy is None or proxy.status != Rendition.Status.READY:
            return None
        return _url(self, "video-proxy", pk=video.pk)


class VideoJobSerializer(serializers.Serializer):
    job_id = serializers.UUIDField(source="id")
    job_type = serializers.CharField()
    status = serializers.CharField()
    progress = serializers.IntegerField()
    progress_message = serializers.CharField()
    error_message = serializers.CharField()
    queued_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)


class VideoDetailSerializer(VideoSerializer):
    original_url = serializers.SerializerMethodField()
    contact_sheet_url = serializers.SerializerMethodField()
    renditions = RenditionNestedSerializer(many=True, read_only=True)
    jobs = serializers.SerializerMethodField()

    class Meta(VideoSerializer.Meta):
        fields = [
            *VideoSerializer.Meta.fields,
            "bitrate",
            "metadata",
            "metadata_read_at",
            "original_url",
            "thumbnail_at_s",
            "thumbnail_error",
            "contact_sheet_url",
            "contact_sheet_times_s",
            "renditions",
            "timeline",
            "analyzed_at",
            "analysis_error",
            "jobs",
        ]
        read_only_fields = fields

    def get_original_url(self, video: Video) -> str:
        return _url(self, "video-original", pk=video.pk)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_contact_sheet_url(self, video: Video) -> str | None:
        if not video.contact_sheet:
            return None
        return _url(self, "video-contact-sheet", pk=video.pk)

    @extend_schema_field(VideoJobSerializer(many=True))
    def get_jobs(self, video: Video) -> list[dict]:
        return VideoJobSerializer(selectors.video_jobs(video=video), many=True).data


class VideoUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, allow_blank=True)


class VideoDirectUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)


class VideoReprocessSerializer(serializers.Serializer):
    jobs = serializers.ListField(
        child=serializers.ChoiceField(choices=JOB_NAMES),
        allow_empty=False,
        max_length=len(JOB_NAMES),
    )
    profile = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=EncodingProfile.objects.filter(is_active=True),
        required=False,
        help_text='The rendition "proxy" makes (default: the default profile).',
    )
    at_s = serializers.FloatField(
        required=False, min_value=0, help_text="Thumbnail time in seconds."
    )


class JobRefSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    task_id = serializers.CharField()
    job_type = serializers.CharField()
    status = serializers.CharField()


class VideoReprocessAnswerSerializer(serializers.Serializer):
    video_id = serializers.UUIDField()
    jobs = serializers.DictField(child=JobRefSerializer())


class VideoCreatedSerializer(serializers.Serializer):
    """What every upload path answers once the video exists."""

    video_id = serializers.UUIDField()
    upload_id = serializers.UUIDField(allow_null=True)
    filename = serializers.CharField()
    size_bytes = serializers.IntegerField()
    sha256 = serializers.CharField()
    status = serializers.CharField()
    processing_job_id = serializers.UUIDField(allow_null=True)
    task_id = serializers.CharField(allow_null=True)
    status_url = serializers.CharField(allow_null=True)
    jobs = serializers.DictField(child=serializers.UUIDField())
    video = VideoSerializer()


class ProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = EncodingProfile
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "height",
            "fps",
            "preset",
            "crf",
            "keyframe_interval_s",
            "audio_bitrate",
            "max_audio_channels",
            "is_default",
            "is_auto",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # One default at a time is the service's business: it moves the flag.
        validators = []
        extra_kwargs = {"is_default": {"validators": []}}


class MultipartInitiateSerializer(serializers.Serializer):
    filename = serializers.CharField(max_length=255)
    size_bytes = serializers.IntegerField(min_value=0)
    sha256 = serializers.RegexField(r"^[0-9a-fA-F]{64}$", max_length=64)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    part_size_bytes = serializers.IntegerField(min_value=1, required=False)


class MultipartUploadSerializer(serializers.ModelSerializer):
    upload_id = serializers.UUIDField(source="id", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    parts_received = serializers.SerializerMethodField()
    progress_percent = serializers.IntegerField(read_only=True)
    video_id = serializers.UUIDField(read_only=True, allow_null=True)
    part_url_template = serializers.SerializerMethodField()
    complete_url = serializers.SerializerMethodField()

    class Meta:
        model = Upload
        fields = [
            "upload_id",
            "owner",
            "status",
            "filename",
            "title",
            "size_bytes",
            "sha256",
            "part_size_bytes",
            "part_count",
            "parts_received",
            "received_bytes",
            "progress_percent",
            "error_message",
            "video_id",
            "part_url_template",
            "complete_url",
            "created_at",
            "expires_at",
            "completed_at",
        ]
        read_only_fields = fields

    def get_parts_received(self, upload: Upload) -> list[int]:
        return sorted(part.number for part in upload.parts.all())

    def get_part_url_template(self, upload: Upload) -> str:
        url = _url(self, "video-multipart-upload-part", pk=upload.pk, number=1)
        return url.replace("/parts/1/", "/parts/{part_number}/")

    def get_complete_url(self, upload: Upload) -> str:
        return _url(self, "video-multipart-upload-complete", pk=upload.pk)


class UploadPartSerializer(serializers.Serializer):
    upload_id = serializers.UUIDField()
    part_number = serializers.IntegerField()
    size_bytes = serializers.IntegerField()
    sha256 = serializers.CharField()
    parts_received = serializers.IntegerField()
    part_count = serializers.IntegerField()


class TusUploadSerializer(serializers.ModelSerializer):
    """A tus upload as GET (outside the protocol) shows it: state, and the video it became."""

    upload_id = serializers.UUIDField(source="id", read_only=True)
    offset = serializers.IntegerField(source="received_bytes", read_only=True)
    length = serializers.IntegerField(source="size_bytes", read_only=True)
    video_id = serializers.UUIDField(read_only=True, allow_null=True)
    processing_job_id = serializers.SerializerMethodField()

    class Meta:
        model = Upload
        fields = [
            "upload_id",
            "status",
            "filename",
            "title",
            "offset",
            "length",
            "metadata",
            "error_message",
            "video_id",
            "processing_job_id",
            "created_at",
            "expires_at",
            "completed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.UUID)
    def get_processing_job_id(self, upload: Upload) -> str | None:
        job = selectors.upload_processing_job(upload=upload)
        return str(job.id) if job is not None else None


class OriginalJobStatusSerializer(serializers.Serializer):
    """GET /jobs/{job_id}/status, in the original system's shape."""

    job_id = serializers.UUIDField()
    job_type = serializers.CharField()
    video_id = serializers.UUIDField(allow_null=True)
    status = serializers.ChoiceField(
        choices=["pending", "running", "completed", "failed"],
        help_text="The original's statuses: a cancelled job is failed, saying so in error.",
    )
    progress = serializers.IntegerField()
    message = serializers.CharField()
    started = serializers.DateTimeField(allow_null=True)
    completed = serializers.DateTimeField(allow_null=True)
    duration = serializers.FloatField(allow_null=True, help_text="Seconds.")
    error = serializers.CharField(allow_null=True)
    result = serializers.JSONField(allow_null=True)
    queued = serializers.DateTimeField()
    state = serializers.CharField(help_text="The Celery-style state of the job.")
    task_id = serializers.CharField()
    attempts = serializers.IntegerField()
