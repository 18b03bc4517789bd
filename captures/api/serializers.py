"""Input validation and output shape of the captures API."""

from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework import serializers

from captures.models import Capture
from captures.models import Device
from captures.models import Observation


class DeviceSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    capture_count = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = Device
        fields = [
            "device_id",
            "name",
            "location",
            "owner",
            "is_active",
            "retention_days",
            "api_key_prefix",
            "api_key_rotated_at",
            "last_seen_at",
            "created_at",
            "capture_count",
        ]
        read_only_fields = fields


class DeviceCreateSerializer(serializers.Serializer):
    device_id = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=120)
    location = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    owner = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.all(),
        required=False,
        allow_null=True,
    )
    is_active = serializers.BooleanField(required=False, default=True)
    retention_days = serializers.IntegerField(
        min_value=1, required=False, allow_null=True
    )


class DeviceUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    location = serializers.CharField(max_length=200, required=False, allow_blank=True)
    owner = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.all(),
        required=False,
        allow_null=True,
    )
    is_active = serializers.BooleanField(required=False)
    retention_days = serializers.IntegerField(
        min_value=1, required=False, allow_null=True
    )


class DeviceWithKeySerializer(DeviceSerializer):
    """A device with its API key: only in the answer that created or rotated the key."""

    api_key = serializers.SerializerMethodField()

    class Meta(DeviceSerializer.Meta):
        fields = [*DeviceSerializer.Meta.fields, "api_key"]
        read_only_fields = fields

    def get_api_key(self, device: Device) -> str:
        return self.context["api_key"]


class ObservationSerializer(serializers.ModelSerializer):
    capture_id = serializers.CharField(source="capture.public_id", read_only=True)
    device_id = serializers.CharField(source="capture.device.device_id", read_only=True)

    class Meta:
        model = Observation
        fields = [
            "id",
            "capture_id",
            "device_id",
            "analyzer_name",
            "analyzer_version",
            "width",
            "height",
            "brightness",
            "sharpness",
            "dominant_colors",
            "motion",
            "people_count",
            "people",
            "faces_count",
            "faces",
            "codes",
            "text",
            "text_boxes",
            "labels",
            "remote_labels",
            "timings",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class NestedObservationSerializer(ObservationSerializer):
    class Meta(ObservationSerializer.Meta):
        fields = [
            name
            for name in ObservationSerializer.Meta.fields
            if name not in ("capture_id", "device_id")
        ]
        read_only_fields = fields


class CaptureSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    device_id = serializers.CharField(source="device.device_id", read_only=True)
    image_url = serializers.SerializerMethodField()
    observations = NestedObservationSerializer(many=True, read_only=True)

    class Meta:
        model = Capture
        fields = [
            "id",
            "device_id",
            "status",
            "content_type",
            "size_bytes",
            "width",
            "height",
            "sha256",
            "captured_at",
            "received_at",
            "processed_at",
            "error_message",
            "idempotency_key",
            "image_url",
            "observations",
        ]
        read_only_fields = fields

    def get_image_url(self, capture: Capture) -> str:
        path = reverse("api:capture-image", kwargs={"public_id": capture.public_id})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class CaptureReprocessSerializer(serializers.Serializer):
    capture_id = serializers.CharField()
    job_id = serializers.CharField()
    task_id = serializers.CharField()
    status = serializers.CharField()
