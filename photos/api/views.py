"""ViewSets of photos, sessions, similar groups, presets and exports under /api/v1/.

Visibility comes from the selectors (staff all, others their own; presets:
shared ones too); another user's object answers 404. Files are served by
these authenticated routes, never from /media/.
"""

from django.conf import settings
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import extend_schema_view
from rest_framework import mixins
from rest_framework import status
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from jobs.models import ProcessingJob
from photos import develop
from photos import selectors
from photos import services
from photos.api import serializers as s
from photos.api.filters import ExportFilter
from photos.api.filters import PhotoFilter
from photos.api.filters import SimilarGroupFilter
from photos.api.uploads import upload_answer
from photos.models import Export
from photos.models import Photo
from photos.models import PhotoSession
from photos.models import Preset
from photos.models import SimilarGroup

FILE_CACHE = "private, max-age=3600"


def serve_file(
    field_file, *, what: str, content_type: str, filename: str = ""
) -> FileResponse:
    """A stored file as an answer; a JSON 404 when it is not made yet or gone."""
    if not field_file:
        raise NotFound(f"the {what} is not made yet")
    try:
        handle = field_file.open("rb")
    except (FileNotFoundError, OSError):
        raise NotFound(f"the {what} file is missing from storage") from None
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=bool(filename),
        filename=filename or None,
    )
    response["Cache-Control"] = FILE_CACHE
    return response


def job_queued(job: ProcessingJob, *, created: bool = True) -> dict:
    """The answer for a queued (or already queued) job."""
    return {
        "task_id": job.task_id,
        "job_id": str(job.id),
        "job_type": job.job_type,
        "queue": job.queue,
        "priority": job.priority,
        "status": job.status,
        "created": created,
    }


def batch_queued(submission: services.BatchSubmission) -> dict:
    return {
        "submitted": len(submission.jobs),
        "task_ids": [job.task_id for job in submission.jobs],
        "already_queued": {
            str(photo_id): job.task_id
            for photo_id, job in submission.already_active.items()
        },
    }


_JPEG = {(200, "image/jpeg"): OpenApiTypes.BINARY}


@extend_schema(tags=["photos"])
@extend_schema_view(
    list=extend_schema(
        summary="Photos, newest first (filters: session, score, context...)"
    ),
    retrieve=extend_schema(summary="One photo with all its EXIF and analysis"),
    destroy=extend_schema(summary="Delete a photo, its exports and their files"),
)
class PhotoViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Photo.objects.none()  # for the schema; get_queryset() decides
    serializer_class = s.PhotoSerializer
    filterset_class = PhotoFilter

    @property
    def ratelimit_scope(self) -> str:
        return "photos_upload" if self.action == "create" else "api"

    def ratelimit_rate(self) -> str | None:
        return (
            settings.PHOTOS_RATE_LIMITS["upload"] if self.action == "create" else None
        )

    def get_queryset(self):
        return selectors.photo_list(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return s.PhotoDetailSerializer
        return super().get_serializer_class()

    @extend_schema(
        summary="Upload one or more photos (multipart); each file is stored or refused on its own",
        request={"multipart/form-data": s.PhotoUploadSerializer},
        responses={
            201: s.PhotoUploadResultSerializer,
            200: s.PhotoUploadResultSerializer,
            207: s.PhotoUploadResultSerializer,
        },
        description=(
            "201 when a file was stored, 200 when every file was stored before, "
            "207 when some were refused; when none was stored, the files' common "
            "status (400, 413 or 415) with each file's reason."
        ),
    )
    def create(self, request):
        incoming = s.PhotoUploadSerializer(
            data=request.data, context={"request": request}
        )
        incoming.is_valid(raise_exception=True)
        outcomes = services.photos_upload(
            owner=request.user,
            files=incoming.validated_data["files"],
            session=incoming.validated_data.get("session"),
            session_name=incoming.validated_data.get("session_name", ""),
        )
        body, answer = upload_answer(outcomes, context={"request": request})
        return Response(body, status=answer)

    @extend_schema(
        summary="Move a photo to a session, or correct its taken-at time",
        request=s.PhotoUpdateSerializer,
        responses=s.PhotoDetailSerializer,
    )
    def partial_update(self, request, pk=None):
        incoming = s.PhotoUpdateSerializer(
            data=request.data, context={"request": request}
        )
        incoming.is_valid(raise_exception=True)
        services.photo_update(photo=self.get_object(), **incoming.validated_data)
        photo = selectors.photo_get(user=request.user, photo_id=pk)
        return Response(
            s.PhotoDetailSerializer(photo, context={"request": request}).data
        )

    def perform_destroy(self, instance: Photo) -> None:
        services.photo_delete(photo=instance)

    @extend_schema(
        summary="Analyse again, at user-requested priority (9)",
        request=s.PhotoAnalyzeSerializer,
        responses={202: s.JobQueuedSerializer},
    )
    @action(detail=True, methods=["post"])
    def analyze(self, request, pk=None):
        incoming = s.PhotoAnalyzeSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        job, created = services.photo_submit(
            photo=self.get_object(),
            user_requested=True,
            config=incoming.validated_data.get("config"),
            submitted_by=request.user,
        )
        return Response(
            job_queued(job, created=created), status=status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        summary="Choose the photo's preset and develop it (preview + XMP sidecar)",
        request=s.PhotoPresetChoiceSerializer,
        responses={202: s.JobQueuedSerializer, 200: s.PhotoSerializer},
    )
    @action(detail=True, methods=["post"], url_path="apply-preset")
    def apply_preset(self, request, pk=None):
        incoming = s.PhotoPresetChoiceSerializer(
            data=request.data, context={"request": request}
        )
        incoming.is_valid(raise_exception=True)
        photo = self.get_object()
        job = services.photo_preset_choose(
            photo=photo,
            preset=incoming.validated_data["preset"],
            submitted_by=request.user,
        )
        if job is None:
            return Response(s.PhotoSerializer(photo, context={"request": request}).data)
        return Response(job_queued(job), status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="The thumbnail (320 px JPEG)", responses=_JPEG)
    @action(detail=True, methods=["get"])
    def thumbnail(self, request, pk=None):
        photo = self.get_object()
        return serve_file(photo.thumbnail, what="thumbnail", content_type="image/jpeg")

    @extend_schema(summary="The preview (1440 px JPEG)", responses=_JPEG)
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        photo = self.get_object()
        return serve_file(photo.preview, what="preview", content_type="image/jpeg")

    @extend_schema(
        summary="The preview developed with the photo's preset", responses=_JPEG
    )
    @action(detail=True, methods=["get"])
    def developed(self, request, pk=None):
        photo = self.get_object()
        return serve_file(
            photo.developed, what="developed preview", content_type="image/jpeg"
        )

    @extend_schema(
        summary="The XMP sidecar of the development (Lightroom, darktable)",
        responses={(200, "application/rdf+xml"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def sidecar(self, request, pk=None):
        photo = self.get_object()
        filename = develop.sidecar_name(photo.original_name or f"photo-{photo.pk}")
        return serve_file(
            photo.sidecar,
            what="XMP sidecar",
            content_type="application/rdf+xml",
            filename=filename,
        )

    @extend_schema(
        summary="The original file as imported",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def original(self, request, pk=None):
        photo = self.get_object()
        filename = photo.original_name or f"photo-{photo.pk}"
        return serve_file(
            photo.original,
            what="original",
            content_type=photo.content_type,
            filename=filename,
        )


@extend_schema(tags=["photos"])
@extend_schema_view(
    list=extend_schema(summary="Sessions with their photo counts by status"),
    retrieve=extend_schema(summary="One session"),
    destroy=extend_schema(
        summary="Delete a session (its photos stay, outside any session)"
    ),
)
class PhotoSessionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = PhotoSession.objects.none()  # for the schema; get_queryset() decides
    serializer_class = s.PhotoSessionSerializer

    def get_queryset(self):
        return selectors.session_list(user=self.request.user)

    @extend_schema(
        request=s.PhotoSessionWriteSerializer, responses={201: s.PhotoSessionSerializer}
    )
    def create(self, request):
        incoming = s.PhotoSessionWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        session = services.session_create(owner=request.user, **incoming.validated_data)
        session = selectors.session_get(user=request.user, session_id=session.pk)
        return Response(
            self.get_serializer(session).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=s.PhotoSessionWriteSerializer, responses=s.PhotoSessionSerializer
    )
    def partial_update(self, request, pk=None):
        incoming = s.PhotoSessionWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.session_update(session=self.get_object(), **incoming.validated_data)
        session = selectors.session_get(user=request.user, session_id=pk)
        return Response(self.get_serializer(session).data)

    def perform_destroy(self, instance: PhotoSession) -> None:
        services.session_delete(session=instance)

    @extend_schema(
        summary="Analyse every photo of the session (one transaction, priority by score)",
        request=s.SessionProcessSerializer,
        responses={202: s.BatchSubmittedSerializer},
    )
    @action(detail=True, methods=["post"])
    def process(self, request, pk=None):
        incoming = s.SessionProcessSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        submission = services.session_submit(
            session=self.get_object(),
            submitted_by=request.user,
            **incoming.validated_data,
        )
        return Response(batch_queued(submission), status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Group the session's similar photos now (low queue)",
        request=None,
        responses={202: s.JobQueuedSerializer},
    )
    @action(detail=True, methods=["post"])
    def group(self, request, pk=None):
        job, created = services.session_group_submit(
            session=self.get_object(), submitted_by=request.user
        )
        return Response(
            job_queued(job, created=created), status=status.HTTP_202_ACCEPTED
        )


@extend_schema(tags=["photos"])
@extend_schema_view(
    list=extend_schema(summary="Similar groups, by session, best photo first"),
    retrieve=extend_schema(summary="One similar group"),
)
class SimilarGroupViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = SimilarGroup.objects.none()  # for the schema; get_queryset() decides
    serializer_class = s.SimilarGroupSerializer
    filterset_class = SimilarGroupFilter

    def get_queryset(self):
        return selectors.group_list(user=self.request.user)


@extend_schema(tags=["photos"])
@extend_schema_view(
    list=extend_schema(summary="Presets: shared ones and your own"),
    retrieve=extend_schema(summary="One preset"),
    destroy=extend_schema(summary="Delete a preset (shared: staff only)"),
)
class PresetViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Preset.objects.none()  # for the schema; get_queryset() decides
    serializer_class = s.PresetSerializer
    filterset_fields = ["is_active"]

    def get_queryset(self):
        return selectors.preset_list(user=self.request.user)

    @extend_schema(
        summary="Create a preset (yours; shared with `shared: true`, staff only)",
        request=s.PresetWriteSerializer,
        responses={201: s.PresetSerializer},
    )
    def create(self, request):
        incoming = s.PresetWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        preset = services.preset_create(
            created_by=request.user, **incoming.validated_data
        )
        return Response(
            self.get_serializer(preset).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Change a preset (shared: staff only)",
        request=s.PresetWriteSerializer,
        responses=s.PresetSerializer,
    )
    def partial_update(self, request, pk=None):
        incoming = s.PresetWriteSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        fields = {k: v for k, v in incoming.validated_data.items() if k != "shared"}
        preset = services.preset_update(
            preset=self.get_object(), updated_by=request.user, **fields
        )
        return Response(self.get_serializer(preset).data)

    def perform_destroy(self, instance: Preset) -> None:
        services.preset_delete(preset=instance, deleted_by=self.request.user)


@extend_schema(tags=["photos"])
@extend_schema_view(
    list=extend_schema(summary="Exports, newest first"),
    retrieve=extend_schema(summary="One export"),
    destroy=extend_schema(summary="Delete an export and its file"),
)
class ExportViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Export.objects.none()  # for the schema; get_queryset() decides
    serializer_class = s.ExportSerializer
    filterset_class = ExportFilter

    def get_queryset(self):
        return selectors.export_list(user=self.request.user)

    @extend_schema(
        summary="Export a photo (rendered by a job on the low queue)",
        request=s.ExportCreateSerializer,
        responses={202: s.ExportSerializer},
    )
    def create(self, request):
        incoming = s.ExportCreateSerializer(
            data=request.data, context={"request": request}
        )
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        options = {"quality_level": data.pop("quality"), "requested_by": request.user}
        export = services.export_create(**data, **options)
        return Response(
            self.get_serializer(export).data, status=status.HTTP_202_ACCEPTED
        )

    def perform_destroy(self, instance: Export) -> None:
        services.export_delete(export=instance)

    @extend_schema(
        summary="The exported file (404 until it is rendered)",
        responses={(200, "image/*"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        export = self.get_object()
        stem = (export.photo.original_name or f"photo-{export.photo_id}").rsplit(
            ".", 1
        )[0]
        return serve_file(
            export.file,
            what="export",
            content_type=export.content_type,
            filename=f"{stem}{export.extension}",
        )
