"""Admin of photos, sessions (with their groups side by side), presets and exports.

Fields the services own are read-only; actions call the services. Images
are served by admin views for staff, never from /media/.
"""

from django.contrib import admin
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.http import Http404
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from photos import selectors
from photos import services
from photos.models import Export
from photos.models import Photo
from photos.models import PhotoSession
from photos.models import Preset
from photos.models import SimilarGroup

PLACEHOLDER_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="160">'
    '<rect width="240" height="160" fill="#eee"/>'
    '<text x="120" y="84" font-size="13" text-anchor="middle" fill="#888">'
    "{text}</text></svg>"
)
EXPORT_LONG_EDGE = 2048


def _stored_file(
    field_file, content_type: str, *, missing: str = "not made yet"
) -> HttpResponse:
    if not field_file:
        return HttpResponse(
            PLACEHOLDER_SVG.format(text=missing),
            content_type="image/svg+xml",
            headers={"Cache-Control": "no-store"},
        )
    try:
        handle = field_file.open("rb")
    except OSError:
        raise Http404("the file is missing from storage") from None
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


def thumbnail_tag(photo: Photo, size: int = 80) -> str:
    url = reverse("admin:photos_photo_thumbnail", args=[photo.pk])
    return format_html(
        '<img src="{}" loading="lazy" alt="" style="max-width:{}px;max-height:{}px">',
        url,
        size,
        size,
    )


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = [
        "thumbnail_image",
        "__str__",
        "owner",
        "session",
        "status",
        "score",
        "context",
        "group_link",
        "best",
        "preset",
        "taken_at",
        "camera_model",
    ]
    list_filter = ["status", "is_best_in_group", "format", "preset"]
    search_fields = ["original_name", "sha256", "camera_model", "lens", "session__name"]
    list_select_related = ["owner", "session", "group", "preset"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "preview_image",
        "owner",
        "session",
        "original",
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
        "score",
        "sharpness",
        "exposure_ev",
        "noise",
        "contrast",
        "faces",
        "context_labels",
        "phash",
        "group",
        "is_best_in_group",
        "preset",
        "preset_chosen_by_user",
        "developed_preset",
        "developed_at",
        "analyzed_at",
        "quality",
        "analysis",
        "exif",
    ]
    fields = readonly_fields
    actions = ["reanalyze", "regroup", "export_jpeg"]

    def has_add_permission(self, request):
        return False  # photos come through the API or photos_import

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(view)

        return [
            path(
                "<int:photo_pk>/thumbnail.jpg",
                wrap(self.thumbnail_view),
                name="photos_photo_thumbnail",
            ),
            path(
                "<int:photo_pk>/preview.jpg",
                wrap(self.preview_view),
                name="photos_photo_preview",
            ),
            *super().get_urls(),
        ]

    def _photo(self, request: HttpRequest, photo_pk: int) -> Photo:
        if not self.has_view_permission(request):
            raise PermissionDenied
        photo = Photo.objects.filter(pk=photo_pk).first()
        if photo is None:
            raise Http404("no such photo")
        return photo

    def thumbnail_view(self, request: HttpRequest, photo_pk: int) -> HttpResponse:
        photo = self._photo(request, photo_pk)
        missing = "analysis failed" if photo.status == Photo.Status.FAILED else None
        return _stored_file(
            photo.thumbnail, "image/jpeg", missing=missing or "not made yet"
        )

    def preview_view(self, request: HttpRequest, photo_pk: int) -> HttpResponse:
        photo = self._photo(request, photo_pk)
        return _stored_file(photo.developed or photo.preview, "image/jpeg")

    @admin.display(description="image")
    def thumbnail_image(self, photo: Photo) -> str:
        return thumbnail_tag(photo)

    @admin.display(description="preview (developed when there is one)")
    def preview_image(self, photo: Photo) -> str:
        url = reverse("admin:photos_photo_preview", args=[photo.pk])
        return format_html('<img src="{}" alt="" style="max-width:720px">', url)

    @admin.display(boolean=True, description="best", ordering="is_best_in_group")
    def best(self, photo: Photo) -> bool:
        return photo.is_best_in_group

    @admin.display(description="context")
    def context(self, photo: Photo) -> str:
        return ", ".join(photo.context_labels) or "-"

    @admin.display(description="group", ordering="group")
    def group_link(self, photo: Photo) -> str:
        if photo.group_id is None:
            return "-"
        url = reverse("admin:photos_photosession_groups", args=[photo.session_id])
        return format_html('<a href="{}">group {}</a>', url, photo.group.position + 1)

    @admin.action(description="Analyse again (user-requested priority)")
    def reanalyze(self, request, queryset):
        for photo in queryset:
            services.photo_submit(
                photo=photo, user_requested=True, submitted_by=request.user
            )
        messages.success(request, f"{queryset.count()} photo(s) queued for analysis")

    @admin.action(description="Regroup their sessions")
    def regroup(self, request, queryset):
        sessions = PhotoSession.objects.filter(
            pk__in=queryset.exclude(session=None).values("session_id")
        )
        for session in sessions:
            services.session_group_submit(session=session, submitted_by=request.user)
        messages.success(request, f"{len(sessions)} session(s) queued for grouping")

    @admin.action(description=f"Export as JPEG ({EXPORT_LONG_EDGE} px, their preset)")
    def export_jpeg(self, request, queryset):
        for photo in queryset.select_related("preset"):
            services.export_create(
                photo=photo, requested_by=request.user, long_edge=EXPORT_LONG_EDGE
            )
        messages.success(request, f"{queryset.count()} export(s) queued")

    def delete_model(self, request, obj):
        services.photo_delete(photo=obj)

    def delete_queryset(self, request, queryset):
        for photo in queryset:
            services.photo_delete(photo=photo)


@admin.register(PhotoSession)
class PhotoSessionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "owner",
        "created_at",
        "photos",
        "pending",
        "analyzed",
        "failed",
        "groups_link",
        "grouped_at",
    ]
    search_fields = ["name", "owner__username"]
    readonly_fields = ["owner", "created_at", "grouped_at"]
    fields = ["name", *readonly_fields]
    actions = ["process", "regroup"]

    def get_queryset(self, request):
        return selectors.session_list(user=None)

    def has_add_permission(self, request):
        return False  # sessions belong to users: the API or photos_import makes them

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(view)

        return [
            path(
                "<int:session_pk>/groups/",
                wrap(self.groups_view),
                name="photos_photosession_groups",
            ),
            path(
                "<int:session_pk>/regroup/",
                wrap(require_POST(self.regroup_view)),
                name="photos_photosession_regroup",
            ),
            *super().get_urls(),
        ]

    def _session(self, request: HttpRequest, session_pk: int) -> PhotoSession:
        if not self.has_view_permission(request):
            raise PermissionDenied
        session = selectors.session_list(user=None).filter(pk=session_pk).first()
        if session is None:
            raise Http404("no such session")
        return session

    def groups_view(self, request: HttpRequest, session_pk: int) -> HttpResponse:
        """The session's similar groups side by side, the best frame of each marked."""
        session = self._session(request, session_pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Similar groups of {session.name}",
            "session": session,
            "can_change": self.has_change_permission(request, session),
            **selectors.session_groups_page(session=session),
        }
        return TemplateResponse(
            request, "admin/photos/photosession/groups.html", context
        )

    def regroup_view(self, request: HttpRequest, session_pk: int) -> HttpResponse:
        session = self._session(request, session_pk)
        if not self.has_change_permission(request, session):
            raise PermissionDenied
        services.session_group_submit(session=session, submitted_by=request.user)
        messages.success(request, f"{session.name}: grouping queued")
        return HttpResponseRedirect(
            reverse("admin:photos_photosession_groups", args=[session.pk])
        )

    def save_model(self, request, obj, form, change):
        services.session_update(session=obj, name=obj.name)

    @admin.display(description="photos", ordering="photo_count")
    def photos(self, session: PhotoSession) -> int:
        return session.photo_count

    @admin.display(ordering="pending_count")
    def pending(self, session: PhotoSession) -> int:
        return session.pending_count

    @admin.display(ordering="analyzed_count")
    def analyzed(self, session: PhotoSession) -> int:
        return session.analyzed_count

    @admin.display(ordering="failed_count")
    def failed(self, session: PhotoSession) -> int:
        return session.failed_count

    @admin.display(description="similar groups", ordering="group_count")
    def groups_link(self, session: PhotoSession) -> str:
        url = reverse("admin:photos_photosession_groups", args=[session.pk])
        return format_html(
            '<a href="{}">{} group(s): view</a>', url, session.group_count
        )

    @admin.action(description="Analyse every photo (presets applied automatically)")
    def process(self, request, queryset):
        queued = 0
        for session in queryset:
            submission = services.session_submit(
                session=session, auto_select=True, submitted_by=request.user
            )
            queued += len(submission.jobs)
        messages.success(request, f"{queued} photo(s) queued for analysis")

    @admin.action(description="Regroup similar photos")
    def regroup(self, request, queryset):
        for session in queryset:
            services.session_group_submit(session=session, submitted_by=request.user)
        messages.success(request, f"{queryset.count()} session(s) queued for grouping")


@admin.register(SimilarGroup)
class SimilarGroupAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "session",
        "photo_count",
        "best_thumbnail",
        "best_photo",
        "first_taken_at",
        "page_link",
    ]
    list_select_related = ["session", "best_photo"]
    search_fields = ["session__name"]
    readonly_fields = [
        "session",
        "owner",
        "position",
        "best_photo",
        "photo_count",
        "first_taken_at",
        "created_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # groups come from grouping

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="best frame")
    def best_thumbnail(self, group: SimilarGroup) -> str:
        return thumbnail_tag(group.best_photo) if group.best_photo else "-"

    @admin.display(description="session page")
    def page_link(self, group: SimilarGroup) -> str:
        url = reverse("admin:photos_photosession_groups", args=[group.session_id])
        return format_html('<a href="{}">groups side by side</a>', url)


@admin.register(Preset)
class PresetAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "shared",
        "owner",
        "is_active",
        "adjustments",
        "rules",
        "updated_at",
    ]
    list_filter = ["is_active", ("owner", admin.EmptyFieldListFilter)]
    search_fields = ["name", "description", "owner__username"]
    list_select_related = ["owner"]
    fields = ["name", "description", "owner", "adjustments", "rules", "is_active"]

    @admin.display(boolean=True, description="shared")
    def shared(self, preset: Preset) -> bool:
        return preset.is_shared

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            services.preset_update(preset=obj, updated_by=request.user, **fields)
            return
        preset = services.preset_create(
            created_by=obj.owner or request.user,
            shared=obj.owner is None,
            name=obj.name,
            description=obj.description,
            adjustments=obj.adjustments,
            rules=obj.rules,
            is_active=obj.is_active,
        )
        obj.pk = preset.pk

    def delete_model(self, request, obj):
        services.preset_delete(preset=obj, deleted_by=request.user)


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "photo",
        "preset",
        "format",
        "long_edge",
        "quality",
        "keep_metadata",
        "strip_gps",
        "status",
        "size_bytes",
        "download",
        "created_at",
    ]
    list_filter = ["status", "format"]
    search_fields = ["photo__original_name", "public_id"]
    list_select_related = ["photo", "preset"]
    readonly_fields = [
        "public_id",
        "owner",
        "photo",
        "preset",
        "adjustments",
        "format",
        "quality",
        "long_edge",
        "keep_metadata",
        "strip_gps",
        "status",
        "error_message",
        "file",
        "size_bytes",
        "width",
        "height",
        "icc_profile_kept",
        "created_at",
        "completed_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # exports are asked for through the API or the photos' action

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<int:export_pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="photos_export_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, export_pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        export = Export.objects.filter(pk=export_pk).first()
        if export is None or not export.file:
            raise Http404("no such export, or not rendered yet")
        return _stored_file(export.file, export.content_type)

    @admin.display(description="file")
    def download(self, export: Export) -> str:
        if not export.file:
            return "-"
        url = reverse("admin:photos_export_download", args=[export.pk])
        return format_html('<a href="{}">download</a>', url)

    def delete_model(self, request, obj):
        services.export_delete(export=obj)

    def delete_queryset(self, request, queryset):
        for export in queryset:
            services.export_delete(export=export)
