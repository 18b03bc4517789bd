"""ViewSets of videos, renditions, encoding profiles and multipart uploads under /api/v1/."""

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework import permissions
from rest_framework import status
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.response import Response

from videos import selectors
from videos import services
from videos.api.base import UUID_PATTERN
from videos.api.base import VideoErrorsMixin
from videos.api.filters import RenditionFilter
from videos.api.filters import VideoFilter
from videos.api.serializers import CONTENT_TYPES
from videos.api.serializers import MultipartInitiateSerializer
from videos.api.serializers import MultipartUploadSerializer
from videos.api.serializers import ProfileSerializer
from videos.api.serializers import RenditionCreateSerializer
from videos.api.serializers import RenditionSerializer
from videos.api.serializers import UploadPartSerializer
from videos.api.serializers import VideoCreatedSerializer
from videos.api.serializers import VideoDetailSerializer
from videos.api.serializers import VideoDirectUploadSerializer
from videos.api.serializers import VideoReprocessAnswerSerializer
from videos.api.serializers import VideoReprocessSerializer
from videos.api.serializers import VideoSerializer
from videos.api.serializers import VideoUpdateSerializer
from videos.errors import VideoLimitExceeded
from videos.models import EncodingProfile
from videos.models import Rendition
from videos.models import Upload
from videos.models import Video
from videos.ranges import stored_file_response

MEDIA_RESPONSES = {
    (200, "video/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
    (206, "video/*"): OpenApiResponse(
        OpenApiTypes.BINARY, description="One byte range (Range: bytes=first-last)."
    ),
    416: OpenApiResponse(description="The range starts past the end."),
}
IMAGE_RESPONSES = {(200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY)}
OCTET_STREAM = "application/octet-stream"


def created_answer(view, created: services.VideoCreated, upload: Upload | None = None):
    """The answer of every upload path once its video exists."""
    video = created.video
    job = created.processing_job
    status_url = None
    if job is not None:
        status_url = view.request.build_absolute_uri(
            reverse("videos:job-status", kwargs={"job_id": job.id})
        )
    answer = {
        "video_id": video.id,
        "upload_id": upload.id if upload is not None else None,
        "filename": video.original_filename,
        "size_bytes": video.size_bytes,
        "sha256": video.sha256,
        "status": video.status,
        "processing_job_id": job.id if job is not None else None,
        "task_id": job.task_id if job is not None else None,
        "status_url": status_url,
        "jobs": {name: job.id for name, job in created.jobs.items()},
        "video": video,
    }
    return VideoCreatedSerializer(answer, context=view.get_serializer_context()).data


def _job_refs(jobs: dict) -> dict:
    return {
        name: {
            "job_id": job.id,
            "task_id": job.task_id,
            "job_type": job.job_type,
            "status": job.status,
        }
        for name, job in jobs.items()
    }


class VideoViewSet(
    VideoErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Videos: owners see their own, staff all. POST a small file (multipart form) to upload it whole."""

    queryset = Video.objects.none()  # for the schema; get_queryset() decides
    serializer_class = VideoSerializer
    lookup_value_regex = UUID_PATTERN
    filterset_class = VideoFilter

    def get_queryset(self):
        return selectors.video_list(user=self.request.user)

    def get_serializer_class(self):
        return VideoDetailSerializer if self.action == "retrieve" else VideoSerializer

    def ratelimit_key_for_action(self):
        return {"create": "upload", "reprocess": "reprocess"}.get(self.action)

    @extend_schema(
        request={"multipart/form-data": VideoDirectUploadSerializer},
        responses={201: VideoCreatedSerializer},
    )
    def create(self, request):
        """Upload a small video in one request (VIDEOS_DIRECT_UPLOAD_MAX_BYTES)."""
        _refuse_large_body(request, settings.VIDEOS_DIRECT_UPLOAD_MAX_BYTES)
        incoming = VideoDirectUploadSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        upload = incoming.validated_data["file"]
        created = services.upload_direct(
            owner=request.user,
            file=upload,
            filename=upload.name,
            title=incoming.validated_data.get("title", ""),
            size_bytes=upload.size,
        )
        return Response(created_answer(self, created), status=status.HTTP_201_CREATED)

    @extend_schema(request=VideoUpdateSerializer, responses=VideoDetailSerializer)
    def partial_update(self, request, pk=None):
        incoming = VideoUpdateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        video = services.video_update(
            video=self.get_object(), **incoming.validated_data
        )
        return Response(VideoDetailSerializer(video, context={"request": request}).data)

    def perform_destroy(self, instance):
        services.video_delete(video=instance, deleted_by=self.request.user)

    @extend_schema(
        request=VideoReprocessSerializer,
        responses={202: VideoReprocessAnswerSerializer},
    )
    @action(detail=True, methods=["post"])
    def reprocess(self, request, pk=None):
        """Run metadata, thumbnail, proxy or analysis again (a job already active is reused)."""
        incoming = VideoReprocessSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        video = self.get_object()
        jobs = services.video_reprocess(
            video=video,
            jobs=data["jobs"],
            submitted_by=request.user,
            profile=data.get("profile"),
            thumbnail_at_s=data.get("at_s"),
        )
        answer = {"video_id": video.id, "jobs": _job_refs(jobs)}
        return Response(answer, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=MEDIA_RESPONSES)
    @action(detail=True, methods=["get"])
    def original(self, request, pk=None):
        """The original file as uploaded (HTTP Range supported)."""
        video = self.get_object()
        return stored_file_response(
            request,
            video.original.name,
            content_type=CONTENT_TYPES.get(video.container, OCTET_STREAM),
            filename=video.original_filename or None,
        )

    @extend_schema(responses=MEDIA_RESPONSES)
    @action(detail=True, methods=["get"])
    def proxy(self, request, pk=None):
        """The proxy (the default profile's rendition; the original when it is one). Range supported."""
        video = self.get_object()
        return _rendition_response(request, selectors.video_proxy(video=video), video)

    @extend_schema(responses=IMAGE_RESPONSES)
    @action(detail=True, methods=["get"])
    def thumbnail(self, request, pk=None):
        """The poster frame, JPEG."""
        video = self.get_object()
        return stored_file_response(
            request, video.thumbnail.name, content_type="image/jpeg"
        )

    @extend_schema(responses=IMAGE_RESPONSES)
    @action(detail=True, methods=["get"], url_path="contact-sheet")
    def contact_sheet(self, request, pk=None):
        """The contact sheet (frames spread over the video in a grid), JPEG."""
        video = self.get_object()
        return stored_file_response(
            request, video.contact_sheet.name, content_type="image/jpeg"
        )


def _rendition_response(request, rendition: Rendition | None, video: Video):
    if rendition is None or rendition.status != Rendition.Status.READY:
        raise Http404("the rendition is not ready")
    if rendition.method == Rendition.Method.SKIP:
        return stored_file_response(
            request,
            video.original.name,
            content_type=CONTENT_TYPES.get(video.container, OCTET_STREAM),
        )
    return stored_file_response(request, rendition.file.name, content_type="video/mp4")


def _refuse_large_body(request, limit: int) -> None:
    """413 before a too large body is read (multipart overhead allowed for)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ParseError("Content-Length is not a number") from None
    if length > limit + 64 * 1024:
        raise VideoLimitExceeded(
            f"The request has {length} bytes; one request takes a video of at most "
            f"{limit} bytes: use the tus or multipart upload.",
            limit="size",
        )


class RenditionViewSet(
    VideoErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Renditions of the videos the user may see; POST asks for one of another profile."""

    queryset = Rendition.objects.none()  # for the schema; get_queryset() decides
    serializer_class = RenditionSerializer
    filterset_class = RenditionFilter

    def get_queryset(self):
        return selectors.rendition_list(user=self.request.user)

    def ratelimit_key_for_action(self):
        return "reprocess" if self.action in ("create", "cancel") else None

    @extend_schema(
        request=RenditionCreateSerializer, responses={202: RenditionSerializer}
    )
    def create(self, request):
        """Make (or make again) the rendition of a video in a profile; its job is queued."""
        incoming = RenditionCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        video = selectors.video_get(
            video_id=incoming.validated_data["video"], user=request.user
        )
        rendition, _ = services.rendition_request(
            video=video,
            profile=incoming.validated_data["profile"],
            submitted_by=request.user,
            priority=services.RERUN_PRIORITY,
        )
        answer = RenditionSerializer(
            selectors.rendition_get(rendition_id=rendition.pk),
            context={"request": request},
        )
        return Response(answer.data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=RenditionSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel the job making this rendition: the encoder stops, no partial file stays."""
        rendition = services.rendition_cancel(
            rendition=self.get_object(), cancelled_by=request.user
        )
        return Response(
            RenditionSerializer(rendition, context={"request": request}).data
        )

    @extend_schema(responses=MEDIA_RESPONSES)
    @action(detail=True, methods=["get"])
    def file(self, request, pk=None):
        """The rendition's MP4 (HTTP Range supported)."""
        rendition = self.get_object()
        return _rendition_response(request, rendition, rendition.video)


class ProfileViewSet(
    VideoErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Encoding profiles: everyone signed in reads them, staff create, change and delete."""

    queryset = EncodingProfile.objects.none()  # for the schema; get_queryset() decides
    serializer_class = ProfileSerializer
    lookup_field = "slug"
    filterset_fields = ["is_active", "is_default", "is_auto"]

    def get_queryset(self):
        return selectors.profile_list()

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [permissions.IsAuthenticated()]
        return [permissions.IsAdminUser()]

    def perform_create(self, serializer):
        serializer.instance = services.profile_save(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.profile_save(
            profile=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.profile_delete(profile=instance)


class MultipartUploadViewSet(
    VideoErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The original's three-step upload for scripts: initiate, send parts (any order), complete.

    DELETE aborts; abandoned uploads expire (VIDEOS_UPLOAD_EXPIRY_S after
    their last part) and lose their parts.
    """

    queryset = Upload.objects.none()  # for the schema; get_queryset() decides
    serializer_class = MultipartUploadSerializer
    lookup_value_regex = UUID_PATTERN
    filterset_fields = ["status"]

    def get_queryset(self):
        return selectors.upload_list(
            user=self.request.user, protocol=Upload.Protocol.MULTIPART
        )

    def ratelimit_key_for_action(self):
        return {"create": "upload", "part": "upload_data", "complete": "upload"}.get(
            self.action
        )

    @extend_schema(
        request=MultipartInitiateSerializer, responses={201: MultipartUploadSerializer}
    )
    def create(self, request):
        """Initiate: filename, size_bytes and sha256 of the whole file; answers the part layout."""
        incoming = MultipartInitiateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        upload = services.upload_create(
            owner=request.user,
            protocol=Upload.Protocol.MULTIPART,
            **incoming.validated_data,
        )
        upload = selectors.upload_get(upload_id=upload.pk)
        answer = MultipartUploadSerializer(upload, context={"request": request})
        return Response(answer.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request={OCTET_STREAM: OpenApiTypes.BINARY},
        parameters=[
            OpenApiParameter("number", OpenApiTypes.INT, OpenApiParameter.PATH),
            OpenApiParameter(
                "X-Part-SHA256",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="SHA-256 of the part (hex), checked if sent.",
            ),
        ],
        responses={200: UploadPartSerializer},
    )
    @action(
        detail=True,
        methods=["put"],
        url_path="parts/(?P<number>[0-9]{1,6})",
        url_name="part",
    )
    def part(self, request, pk=None, number=None):
        """Send part `number` (raw bytes); parts come in any order, a part sent again replaces it."""
        if request.content_type not in ("", OCTET_STREAM):
            raise UnsupportedMediaType(request.content_type)
        upload = self.get_object()
        part = services.upload_part_put(
            upload=upload,
            number=int(number),
            stream=request.stream or _EMPTY,
            length=_content_length(request),
            sha256=request.headers.get("X-Part-SHA256"),
        )
        answer = {
            "upload_id": upload.pk,
            "part_number": part.number,
            "size_bytes": part.size_bytes,
            "sha256": part.sha256,
            "parts_received": upload.parts.count(),
            "part_count": upload.part_count,
        }
        return Response(UploadPartSerializer(answer).data)

    @extend_schema(request=None, responses={201: VideoCreatedSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Complete: assemble, verify size and SHA-256, make the video and queue its jobs."""
        upload = self.get_object()
        created = services.upload_complete(upload=upload)
        return Response(
            created_answer(self, created, upload), status=status.HTTP_201_CREATED
        )

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Abort: the parts received are deleted."""
        services.upload_abort(upload=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class _Empty:
    def read(self, size=-1) -> bytes:
        return b""


_EMPTY = _Empty()


def _content_length(request) -> int | None:
    raw = request.META.get("CONTENT_LENGTH")
    if raw in (None, ""):
        return None
    try:
        length = int(raw)
    except ValueError:
        raise ParseError("Content-Length is not a number") from None
    if length < 0:
        raise ParseError("Content-Length is negative")
    return length
