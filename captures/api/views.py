"""ViewSets of devices, captures and observations under /api/v1/."""

from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework import permissions
from rest_framework import status
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from captures import selectors
from captures import services
from captures.api.filters import CaptureFilter
from captures.api.filters import DeviceFilter
from captures.api.filters import ObservationFilter
from captures.api.serializers import CaptureReprocessSerializer
from captures.api.serializers import CaptureSerializer
from captures.api.serializers import DeviceCreateSerializer
from captures.api.serializers import DeviceSerializer
from captures.api.serializers import DeviceUpdateSerializer
from captures.api.serializers import DeviceWithKeySerializer
from captures.api.serializers import ObservationSerializer
from captures.models import Capture
from captures.models import Device
from captures.models import Observation

SLUG_PATTERN = "[-a-zA-Z0-9_]+"


class DeviceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Devices: owners list and read their own; staff manage all (create, update, rotate key)."""

    queryset = Device.objects.none()  # for the schema; get_queryset() decides
    serializer_class = DeviceSerializer
    lookup_field = "device_id"
    lookup_value_regex = SLUG_PATTERN
    filterset_class = DeviceFilter

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [permissions.IsAuthenticated()]
        return [permissions.IsAdminUser()]

    def get_queryset(self):
        return selectors.device_list(user=self.request.user)

    @extend_schema(
        request=DeviceCreateSerializer, responses={201: DeviceWithKeySerializer}
    )
    def create(self, request):
        incoming = DeviceCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        device, api_key = services.device_create(**incoming.validated_data)
        device = selectors.device_get(device_id=device.device_id)
        answer = DeviceWithKeySerializer(device, context={"api_key": api_key})
        return Response(answer.data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DeviceUpdateSerializer, responses=DeviceSerializer)
    def partial_update(self, request, device_id=None):
        incoming = DeviceUpdateSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        services.device_update(device=self.get_object(), **incoming.validated_data)
        return Response(
            DeviceSerializer(selectors.device_get(device_id=device_id)).data
        )

    @extend_schema(request=None, responses=DeviceWithKeySerializer)
    @action(detail=True, methods=["post"], url_path="rotate-key")
    def rotate_key(self, request, device_id=None):
        """Replace the device's key; the answer shows the new key, once."""
        device = self.get_object()
        api_key = services.device_rotate_key(device=device)
        return Response(
            DeviceWithKeySerializer(device, context={"api_key": api_key}).data
        )


class CaptureViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Captures of the devices the user may see, with their observations."""

    queryset = Capture.objects.none()  # for the schema; get_queryset() decides
    serializer_class = CaptureSerializer
    lookup_field = "public_id"
    lookup_value_regex = SLUG_PATTERN
    filterset_class = CaptureFilter

    def get_queryset(self):
        return selectors.capture_list(user=self.request.user)

    @extend_schema(request=None, responses={202: CaptureReprocessSerializer})
    @action(detail=True, methods=["post"])
    def reprocess(self, request, public_id=None):
        """Queue the capture's analysis again, at user-requested priority."""
        capture = self.get_object()
        job = services.capture_reprocess(capture=capture, submitted_by=request.user)
        answer = {
            "capture_id": capture.public_id,
            "job_id": str(job.id),
            "task_id": job.task_id,
            "status": "queued",
        }
        return Response(answer, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "image/*"): bytes})
    @action(detail=True, methods=["get"])
    def image(self, request, public_id=None):
        """The image file as the device sent it."""
        capture = self.get_object()
        return FileResponse(capture.image.open("rb"), content_type=capture.content_type)


class ObservationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """What the analysers saw, for the captures the user may see."""

    queryset = Observation.objects.none()  # for the schema; get_queryset() decides
    serializer_class = ObservationSerializer
    filterset_class = ObservationFilter

    def get_queryset(self):
        return selectors.observation_list(user=self.request.user)
