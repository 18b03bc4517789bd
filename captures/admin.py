"""Admin of devices, captures and observations; actions call the services."""

from django.contrib import admin
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import FileResponse
from django.http import Http404
from django.http import HttpResponse
from django.urls import path
from django.urls import reverse
from django.utils.html import format_html
from django.utils.html import format_html_join

from captures import analysis
from captures import services
from captures.models import Capture
from captures.models import Device
from captures.models import Observation

PLACEHOLDER_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="120">'
    '<rect width="160" height="120" fill="#eee"/>'
    '<text x="80" y="64" font-size="12" text-anchor="middle" fill="#888">'
    "not analysed yet</text></svg>"
)
NO_STORE = {"Cache-Control": "no-store"}


def _read(capture: Capture) -> bytes:
    try:
        with capture.image.open("rb") as image_file:
            return image_file.read()
    except (OSError, ValueError):
        raise Http404("the capture's image file is missing") from None


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = [
        "device_id",
        "name",
        "location",
        "owner",
        "is_active",
        "last_seen_at",
        "capture_count",
        "api_key_prefix",
    ]
    list_filter = ["is_active"]
    search_fields = ["device_id", "name", "location", "owner__username"]
    readonly_fields = [
        "api_key_prefix",
        "api_key_rotated_at",
        "last_seen_at",
        "created_at",
    ]
    fields = [
        "device_id",
        "name",
        "location",
        "owner",
        "is_active",
        "retention_days",
        *readonly_fields,
    ]
    actions = ["rotate_key"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(capture_total=Count("captures"))

    @admin.display(description="captures", ordering="capture_total")
    def capture_count(self, device: Device) -> int:
        return device.capture_total

    def save_model(self, request, obj, form, change):
        if change:
            services.device_update(
                device=obj,
                **{name: form.cleaned_data[name] for name in form.changed_data},
            )
            return
        device, api_key = services.device_create(
            device_id=obj.device_id,
            name=obj.name,
            location=obj.location,
            owner=obj.owner,
            is_active=obj.is_active,
            retention_days=obj.retention_days,
        )
        obj.pk = device.pk
        obj.api_key_hash = device.api_key_hash
        obj.api_key_prefix = device.api_key_prefix
        messages.warning(
            request,
            f"API key of {device.device_id} (shown once, store it now): {api_key}",
        )

    @admin.action(description="Rotate the API key (the new key is shown once)")
    def rotate_key(self, request, queryset):
        for device in queryset:
            api_key = services.device_rotate_key(device=device)
            messages.warning(
                request, f"New API key of {device.device_id} (shown once): {api_key}"
            )


class ObservationInline(admin.TabularInline):
    model = Observation
    extra = 0
    can_delete = False
    show_change_link = True
    fields = [
        "analyzer_name",
        "analyzer_version",
        "labels",
        "people_count",
        "faces_count",
        "updated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Capture)
class CaptureAdmin(admin.ModelAdmin):
    list_display = [
        "public_id",
        "thumbnail_image",
        "device",
        "status",
        "received_at",
        "size_bytes",
        "dimensions",
        "observation_summary",
    ]
    list_filter = ["status", "device"]
    search_fields = ["public_id", "device__device_id", "sha256", "idempotency_key"]
    date_hierarchy = "received_at"
    list_select_related = ["device"]
    readonly_fields = [
        "public_id",
        "preview",
        "device",
        "image_link",
        "content_type",
        "size_bytes",
        "width",
        "height",
        "sha256",
        "captured_at",
        "received_at",
        "processed_at",
        "status",
        "error_message",
        "idempotency_key",
    ]
    fields = readonly_fields
    inlines = [ObservationInline]
    actions = ["reprocess"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("observations")

    def has_add_permission(self, request):
        return False  # captures come from devices

    def has_change_permission(self, request, obj=None):
        # Captures are what devices sent: a page to read, not a form to save.
        return False

    def get_urls(self):
        thumbnail = self.admin_site.admin_view(self.thumbnail_view)
        return [
            path(
                "<int:capture_pk>/thumbnail.jpg",
                thumbnail,
                name="captures_capture_thumbnail",
            ),
            *super().get_urls(),
        ]

    def thumbnail_view(self, request, capture_pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        capture = Capture.objects.filter(pk=capture_pk).first()
        if capture is None:
            raise Http404("no such capture")
        if not capture.thumbnail:
            # Made by the analysis job; until then the page shows a placeholder.
            return HttpResponse(
                PLACEHOLDER_SVG, content_type="image/svg+xml", headers=NO_STORE
            )
        try:
            thumbnail = capture.thumbnail.open("rb")
        except OSError:
            raise Http404("the capture's thumbnail file is missing") from None
        response = FileResponse(thumbnail, content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=3600"
        return response

    def _image_tag(self, capture: Capture, size: int) -> str:
        url = reverse("admin:captures_capture_thumbnail", args=[capture.pk])
        return format_html(
            '<img src="{}" loading="lazy" style="max-width:{}px;max-height:{}px" alt="">',
            url,
            size,
            size,
        )

    @admin.display(description="image")
    def thumbnail_image(self, capture: Capture) -> str:
        return self._image_tag(capture, 80)

    @admin.display(description="preview")
    def preview(self, capture: Capture) -> str:
        return self._image_tag(capture, 160)

    @admin.display(description="image")
    def image_link(self, capture: Capture) -> str:
        # The authenticated image route: media files are never served as /media/.
        url = reverse("api:capture-image", kwargs={"public_id": capture.public_id})
        return format_html(
            '<a href="{}">{}</a> ({})', url, capture.image.name, capture.content_type
        )

    @admin.display(description="size")
    def dimensions(self, capture: Capture) -> str:
        return f"{capture.width}x{capture.height}"

    @admin.display(description="observation")
    def observation_summary(self, capture: Capture) -> str:
        observations = sorted(
            capture.observations.all(), key=lambda observation: observation.updated_at
        )
        if not observations:
            return "-"
        latest = observations[-1]
        codes = ", ".join(code["value"] for code in latest.codes[:3])
        parts = [
            ", ".join(latest.labels) or "no labels",
            f"{latest.people_count} people, {latest.faces_count} faces",
        ]
        if codes:
            parts.append(f"codes: {codes}")
        return "; ".join(parts)

    @admin.action(description="Analyse again (queued at high priority)")
    def reprocess(self, request, queryset):
        for capture in queryset:
            services.capture_reprocess(capture=capture, submitted_by=request.user)
        messages.success(request, f"{queryset.count()} capture(s) queued for analysis")

    def delete_model(self, request, obj):
        services.capture_delete(capture=obj)

    def delete_queryset(self, request, queryset):
        for capture in queryset:
            services.capture_delete(capture=capture)


@admin.register(Observation)
class ObservationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "capture",
        "analyzer_name",
        "analyzer_version",
        "labels",
        "people_count",
        "faces_count",
        "code_values",
        "updated_at",
    ]
    list_filter = ["analyzer_name", "analyzer_version"]
    search_fields = [
        "capture__public_id",
        "capture__device__device_id",
        "code_index",
        "text",
    ]
    list_select_related = ["capture", "capture__device"]
    exclude = ["code_index", "label_index"]
    readonly_fields = [
        "annotated_image",
        "capture",
        "analyzer_name",
        "analyzer_version",
        "width",
        "height",
        "brightness",
        "sharpness",
        "colors",
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
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        boxes = self.admin_site.admin_view(self.boxes_view)
        return [
            path(
                "<int:observation_pk>/boxes.jpg",
                boxes,
                name="captures_observation_boxes",
            ),
            *super().get_urls(),
        ]

    def boxes_view(self, request, observation_pk: int):
        """The capture with this observation's boxes drawn (staff with view permission)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        observation = (
            Observation.objects.select_related("capture")
            .filter(pk=observation_pk)
            .first()
        )
        if observation is None:
            raise Http404("no such observation")
        drawn = analysis.draw_boxes(
            _read(observation.capture),
            {
                "people": observation.people,
                "faces": observation.faces,
                "codes": observation.codes,
                "text_boxes": observation.text_boxes,
            },
        )
        response = HttpResponse(drawn, content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=60"
        return response

    @admin.display(description="detections")
    def annotated_image(self, observation: Observation) -> str:
        url = reverse("admin:captures_observation_boxes", args=[observation.pk])
        return format_html('<img src="{}" style="max-width:640px" alt="">', url)

    @admin.display(description="dominant colours")
    def colors(self, observation: Observation) -> str:
        return format_html_join(
            " ",
            '<span title="{} ({})" style="display:inline-block;width:20px;height:20px;'
            'background:{};border:1px solid #999"></span>',
            (
                (color["hex"], color.get("share"), color["hex"])
                for color in observation.dominant_colors
            ),
        )

    @admin.display(description="codes")
    def code_values(self, observation: Observation) -> str:
        return ", ".join(code["value"] for code in observation.codes)
