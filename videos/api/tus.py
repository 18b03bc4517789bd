"""tus 1.0 at /api/v1/videos/uploads/: core, creation (+ with upload), termination,
checksum (sha256, sha1) and expiration, for tus-js-client, Uppy, tuspy and others.

    OPTIONS /uploads/          discovery: version, extensions, max size, checksums
    POST    /uploads/          create (Upload-Length, Upload-Metadata); 201 + Location
    HEAD    /uploads/{id}/     Upload-Offset: where to resume
    PATCH   /uploads/{id}/     append at Upload-Offset (application/offset+octet-stream)
    DELETE  /uploads/{id}/     terminate
    GET     /uploads/{id}/     (outside tus) the state as JSON, and the video it became

Upload-Metadata keys understood: `filename` (or `name`), `title`, and
`sha256` (hex) of the whole file, verified when the last byte is in. The
PATCH that completes the upload makes the Video: its answer (204) carries
`Video-Id` and `Processing-Job-Id`; GET on the upload tells them too.
Clients that cannot send PATCH or DELETE may POST with X-HTTP-Method-Override.
"""

import contextlib

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework import permissions
from rest_framework import status
from rest_framework import viewsets
from rest_framework.response import Response

from videos import selectors
from videos import services
from videos import tus
from videos.api.base import UUID_PATTERN
from videos.api.base import VideoAPIError
from videos.api.base import VideoErrorsMixin
from videos.api.serializers import TusUploadSerializer
from videos.errors import ChecksumMismatch
from videos.errors import UploadConflict
from videos.errors import UploadError
from videos.models import Upload

CHECKSUM_MISMATCH = 460  # tus' own status code
OVERRIDABLE = ("PATCH", "DELETE", "HEAD")
TUS_HEADER = OpenApiParameter(
    "Tus-Resumable",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    enum=["1.0.0"],
)


class TusVersionUnsupported(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "tus_version_unsupported"
    default_detail = (
        f"Send Tus-Resumable: {tus.VERSION}; it is the version this server speaks."
    )


class TusUploadViewSet(VideoErrorsMixin, viewsets.GenericViewSet):
    """Resumable uploads by the tus 1.0 protocol (see the module docstring)."""

    queryset = Upload.objects.none()  # for the schema; the views read through selectors
    serializer_class = TusUploadSerializer
    lookup_value_regex = UUID_PATTERN

    def ratelimit_key_for_action(self):
        if self.request.method == "OPTIONS":
            return None
        return "upload_data" if self.action == "partial_update" else "upload"

    def get_permissions(self):
        if self.request.method == "OPTIONS":
            return [permissions.AllowAny()]
        return [permissions.IsAuthenticated()]

    def dispatch(self, request, *args, **kwargs):
        override = request.META.get("HTTP_X_HTTP_METHOD_OVERRIDE", "").strip().upper()
        if request.method == "POST" and override in OVERRIDABLE:
            request.method = override
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        needs_version = request.method not in ("OPTIONS", "GET")
        if needs_version and request.headers.get("Tus-Resumable") != tus.VERSION:
            raise TusVersionUnsupported()
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc):
        if isinstance(exc, ChecksumMismatch):
            wrapped = VideoAPIError(exc)
            wrapped.status_code = CHECKSUM_MISMATCH
            response = super().handle_exception(wrapped)
            response.reason_phrase = "Checksum Mismatch"
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Tus-Resumable"] = tus.VERSION
        if request.method == "OPTIONS" or response.status_code == 412:
            response["Tus-Version"] = tus.VERSION
        if request.method in ("HEAD", "GET", "PATCH"):
            response["Cache-Control"] = "no-store"
        return response

    def options(self, request, *args, **kwargs):
        """Discovery: what this tus server supports."""
        return Response(
            status=status.HTTP_204_NO_CONTENT,
            headers={
                "Tus-Version": tus.VERSION,
                "Tus-Extension": ",".join(tus.EXTENSIONS),
                "Tus-Max-Size": str(settings.VIDEOS_MAX_UPLOAD_BYTES),
                "Tus-Checksum-Algorithm": ",".join(tus.CHECKSUM_ALGORITHMS),
            },
        )

    def _upload(self, pk) -> Upload:
        return selectors.upload_get(
            upload_id=pk, user=self.request.user, protocol=Upload.Protocol.TUS
        )

    @extend_schema(
        parameters=[
            TUS_HEADER,
            OpenApiParameter(
                "Upload-Length",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                required=True,
            ),
            OpenApiParameter(
                "Upload-Metadata", OpenApiTypes.STR, OpenApiParameter.HEADER
            ),
        ],
        request={tus.OFFSET_CONTENT_TYPE: OpenApiTypes.BINARY},
        responses={
            201: OpenApiResponse(description="Created; Location names the upload.")
        },
    )
    def create(self, request):
        """Create an upload (and, with a body, take its first bytes)."""
        if "Upload-Defer-Length" in request.headers:
            raise UploadError(
                "Upload-Defer-Length is not supported: send Upload-Length."
            )
        metadata = tus.parse_metadata(request.headers.get("Upload-Metadata"))
        upload = services.upload_create(
            owner=request.user,
            protocol=Upload.Protocol.TUS,
            size_bytes=tus.parse_offset(
                request.headers.get("Upload-Length"), "Upload-Length"
            ),
            filename=metadata.get("filename") or metadata.get("name") or "",
            title=metadata.get("title", ""),
            sha256=metadata.get("sha256", ""),
            metadata=metadata,
        )
        headers = {
            "Location": request.build_absolute_uri(
                reverse("api:video-upload-detail", kwargs={"pk": upload.pk})
            ),
            "Upload-Expires": tus.expires_header(upload.expires_at),
        }
        if request.content_type == tus.OFFSET_CONTENT_TYPE and _content_length(request):
            upload, created = self._append(request, upload, offset=0)
            headers.update(_append_headers(upload, created))
        return Response(status=status.HTTP_201_CREATED, headers=headers)

    @extend_schema(
        responses={200: TusUploadSerializer, 410: OpenApiResponse(description="Gone.")}
    )
    def retrieve(self, request, pk=None):
        """HEAD: Upload-Offset and Upload-Length. GET: the same as JSON, with the video made."""
        upload = self._upload(pk)
        with contextlib.suppress(UploadConflict):
            # Completed or assembling: the offset is still the answer.
            services.upload_check_open(upload)
        headers = {
            "Upload-Offset": str(upload.received_bytes),
            "Upload-Length": str(upload.size_bytes),
        }
        if upload.metadata:
            headers["Upload-Metadata"] = tus.format_metadata(upload.metadata)
        if upload.status == Upload.Status.RECEIVING:
            headers["Upload-Expires"] = tus.expires_header(upload.expires_at)
        if upload.video_id:
            headers["Video-Id"] = str(upload.video_id)
        if request.method == "HEAD":
            return Response(status=status.HTTP_200_OK, headers=headers)
        body = TusUploadSerializer(upload, context={"request": request}).data
        return Response(body, headers=headers)

    @extend_schema(
        parameters=[
            TUS_HEADER,
            OpenApiParameter(
                "Upload-Offset",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                required=True,
            ),
            OpenApiParameter(
                "Upload-Checksum", OpenApiTypes.STR, OpenApiParameter.HEADER
            ),
        ],
        request={tus.OFFSET_CONTENT_TYPE: OpenApiTypes.BINARY},
        responses={
            204: OpenApiResponse(
                description="Appended; Upload-Offset is the new offset."
            ),
            409: OpenApiResponse(
                description="Upload-Offset is not the upload's offset."
            ),
            460: OpenApiResponse(description="Checksum mismatch; nothing was stored."),
        },
    )
    def partial_update(self, request, pk=None):
        """Append bytes at Upload-Offset; the last byte makes the video."""
        if request.content_type != tus.OFFSET_CONTENT_TYPE:
            raise exceptions.UnsupportedMediaType(
                request.content_type,
                detail=f"A PATCH body must be sent as {tus.OFFSET_CONTENT_TYPE}.",
            )
        offset = tus.parse_offset(request.headers.get("Upload-Offset"), "Upload-Offset")
        upload, created = self._append(request, self._upload(pk), offset=offset)
        return Response(
            status=status.HTTP_204_NO_CONTENT, headers=_append_headers(upload, created)
        )

    @extend_schema(parameters=[TUS_HEADER], responses={204: None})
    def destroy(self, request, pk=None):
        """Terminate the upload: what it received is deleted."""
        services.upload_abort(upload=self._upload(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _append(self, request, upload: Upload, *, offset: int):
        return services.upload_append(
            upload=upload,
            offset=offset,
            stream=request.stream or _Empty(),
            length=_content_length(request),
            checksum=tus.parse_checksum(request.headers.get("Upload-Checksum")),
        )


def _append_headers(upload: Upload, created) -> dict[str, str]:
    headers = {"Upload-Offset": str(upload.received_bytes)}
    if upload.status == Upload.Status.RECEIVING:
        headers["Upload-Expires"] = tus.expires_header(upload.expires_at)
    if created is not None:
        headers["Video-Id"] = str(created.video.id)
        job = created.processing_job
        if job is not None:
            headers["Processing-Job-Id"] = str(job.id)
    return headers


class _Empty:
    def read(self, size=-1) -> bytes:
        return b""


def _content_length(request) -> int | None:
    raw = request.META.get("CONTENT_LENGTH")
    if raw in (None, ""):
        return None
    if not str(raw).isdigit():
        raise exceptions.ParseError("Content-Length must be a whole number.")
    return int(raw)
