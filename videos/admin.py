"""Admin of videos, renditions, encoding profiles and uploads; actions call the services.

Media are served by admin routes here (staff with view permission), with
HTTP Range, so the HTML5 player can seek: never from /media/.
"""

import json

from django import forms
from django.contrib import admin
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path
from django.urls import reverse
from django.utils.html import format_html
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from jobs.errors import JobStateConflict
from videos import selectors
from videos import services
from videos.api.serializers import CONTENT_TYPES
from videos.errors import VideoError
from videos.models import EncodingProfile
from videos.models import Rendition
from videos.models import Upload
from videos.models import Video
from videos.ranges import stored_file_response

STATUS_COLOURS = {
    "processing": "#0d6efd",
    "pending": "#6c757d",
    "running": "#0d6efd",
    "receiving": "#0d6efd",
    "assembling": "#6610f2",
    "ready": "#198754",
    "completed": "#198754",
    "failed": "#dc3545",
    "cancelled": "#343a40",
    "aborted": "#343a40",
    "expired": "#6c757d",
}
MEDIA_KINDS = ("original", "proxy", "thumbnail", "contact-sheet")


def _badge(status: str, label: str) -> str:
    return format_html(
        '<span style="background:{};color:#fff;padding:2px 8px;border-radius:10px;'
        'font-size:11px;white-space:nowrap">{}</span>',
        STATUS_COLOURS.get(status, "#6c757d"),
        label,
    )


def _progress_bar(percent: int, colour: str = "#0d6efd") -> str:
    return format_html(
        '<div style="display:inline-block;vertical-align:middle;width:110px;'
        'height:8px;background:#e9ecef;border-radius:4px;overflow:hidden">'
        '<div style="width:{}%;height:100%;background:{}"></div></div> {}%',
        percent,
        colour,
        percent,
    )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:04.1f}"
    return f"{minutes}:{secs:04.1f}"


def _pretty_json(value) -> str:
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html('<pre style="white-space:pre-wrap;margin:0">{}</pre>', text)


def rendition_summary(rendition: Rendition) -> str:
    """A rendition as a badge, and a progress bar while it is made."""
    label = f"{rendition.profile.slug}: {rendition.get_status_display()}"
    if rendition.status == Rendition.Status.READY and rendition.method:
        label += f" ({rendition.method})"
    if rendition.status in (Rendition.Status.RUNNING, Rendition.Status.PENDING):
        return format_html(
            "{} {}", _badge(rendition.status, label), _progress_bar(rendition.progress)
        )
    return _badge(rendition.status, label)


class RenditionInline(admin.TabularInline):
    model = Rendition
    extra = 0
    can_delete = False
    show_change_link = True
    fields = [
        "profile",
        "status_badge",
        "progress_bar",
        "method",
        "size_bytes",
        "resolution",
        "error_message",
        "completed_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="status")
    def status_badge(self, rendition: Rendition) -> str:
        return _badge(rendition.status, rendition.get_status_display())

    @admin.display(description="progress")
    def progress_bar(self, rendition: Rendition) -> str:
        return _progress_bar(rendition.progress)

    @admin.display(description="size")
    def resolution(self, rendition: Rendition) -> str:
        if not rendition.width:
            return "—"
        return f"{rendition.width}x{rendition.height} {rendition.fps:g} fps"


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = [
        "poster_small",
        "title_or_name",
        "owner",
        "status_badge",
        "duration",
        "resolution",
        "size_bytes",
        "renditions_summary",
        "created_at",
    ]
    list_display_links = ["poster_small", "title_or_name"]
    list_filter = ["status", "upload_method", "container", "created_at"]
    search_fields = ["title", "original_filename", "owner__username", "sha256", "id"]
    date_hierarchy = "created_at"
    list_select_related = ["owner"]
    readonly_fields = [
        "id",
        "player",
        "poster",
        "contact_sheet_image",
        "owner",
        "original_link",
        "original_filename",
        "upload_method",
        "size_bytes",
        "sha256",
        "status",
        "error_message",
        "duration",
        "resolution",
        "fps",
        "video_codec",
        "audio_codec",
        "container",
        "rotation",
        "bitrate",
        "creation_time",
        "metadata_pretty",
        "metadata_read_at",
        "thumbnail_at_s",
        "thumbnail_error",
        "timeline_summary",
        "analyzed_at",
        "analysis_error",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["id", "title", "owner", "status", "error_message"]}),
        ("Playback", {"fields": ["player", "poster", "contact_sheet_image"]}),
        (
            "File",
            {
                "fields": [
                    "original_link",
                    "original_filename",
                    "upload_method",
                    "size_bytes",
                    "sha256",
                ]
            },
        ),
        (
            "Metadata",
            {
                "fields": [
                    "duration",
                    "resolution",
                    "fps",
                    "video_codec",
                    "audio_codec",
                    "container",
                    "rotation",
                    "bitrate",
                    "creation_time",
                    "metadata_read_at",
                    "metadata_pretty",
                ]
            },
        ),
        (
            "Thumbnail and analysis",
            {
                "fields": [
                    "thumbnail_at_s",
                    "thumbnail_error",
                    "analyzed_at",
                    "analysis_error",
                    "timeline_summary",
                ]
            },
        ),
        (None, {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [RenditionInline]
    actions = ["rerun_metadata", "rerun_thumbnail", "rerun_proxy", "rerun_analysis"]

    def get_queryset(self, request):
        return selectors.video_list()

    def has_add_permission(self, request):
        return False  # videos come by upload (or `manage.py videos_import`)

    def get_urls(self):
        media = self.admin_site.admin_view(self.media_view)
        return [
            path(
                "<uuid:video_id>/media/<str:kind>",
                media,
                name="videos_video_media",
            ),
            *super().get_urls(),
        ]

    def media_view(self, request, video_id, kind: str):
        """The video's files for the admin pages, with HTTP Range (the player seeks)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        video = selectors.video_list().filter(pk=video_id).first()
        if video is None or kind not in MEDIA_KINDS:
            raise Http404("no such video or file")
        if kind == "thumbnail":
            return stored_file_response(
                request, video.thumbnail.name, content_type="image/jpeg"
            )
        if kind == "contact-sheet":
            return stored_file_response(
                request, video.contact_sheet.name, content_type="image/jpeg"
            )
        name, content_type = video.original.name, CONTENT_TYPES.get(video.container, "")
        if kind == "proxy":
            proxy = selectors.video_proxy(video=video)
            if proxy is None or proxy.status != Rendition.Status.READY:
                raise Http404("the proxy is not ready")
            if proxy.method != Rendition.Method.SKIP:
                name, content_type = proxy.file.name, "video/mp4"
        return stored_file_response(
            request, name, content_type=content_type or "application/octet-stream"
        )

    def _media_url(self, video: Video, kind: str) -> str:
        return reverse("admin:videos_video_media", args=[video.pk, kind])

    @admin.display(description="poster")
    def poster_small(self, video: Video) -> str:
        if not video.thumbnail:
            return "—"
        return format_html(
            '<img src="{}" loading="lazy" style="max-width:96px;max-height:64px" alt="">',
            self._media_url(video, "thumbnail"),
        )

    @admin.display(description="poster")
    def poster(self, video: Video) -> str:
        if not video.thumbnail:
            return video.thumbnail_error or "not made yet"
        return format_html(
            '<img src="{}" style="max-width:480px" alt="">',
            self._media_url(video, "thumbnail"),
        )

    @admin.display(description="contact sheet")
    def contact_sheet_image(self, video: Video) -> str:
        if not video.contact_sheet:
            return "—"
        return format_html(
            '<img src="{}" style="max-width:640px" alt="">',
            self._media_url(video, "contact-sheet"),
        )

    @admin.display(description="proxy")
    def player(self, video: Video) -> str:
        proxy = selectors.video_proxy(video=video)
        if proxy is None or proxy.status != Rendition.Status.READY:
            state = rendition_summary(proxy) if proxy else "no proxy profile"
            return format_html("not playable yet: {}", state)
        poster = self._media_url(video, "thumbnail") if video.thumbnail else ""
        return format_html(
            '<video controls preload="metadata" poster="{}" src="{}" '
            'style="max-width:640px;max-height:480px;background:#000"></video>',
            poster,
            self._media_url(video, "proxy"),
        )

    @admin.display(description="original")
    def original_link(self, video: Video) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            self._media_url(video, "original"),
            video.original.name,
        )

    @admin.display(description="title", ordering="title")
    def title_or_name(self, video: Video) -> str:
        return str(video)

    @admin.display(description="status", ordering="status")
    def status_badge(self, video: Video) -> str:
        return _badge(video.status, video.get_status_display())

    @admin.display(description="duration", ordering="duration_s")
    def duration(self, video: Video) -> str:
        return _duration(video.duration_s)

    @admin.display(description="size")
    def resolution(self, video: Video) -> str:
        size = video.display_size
        if size is None:
            return "—"
        return f"{size[0]}x{size[1]}"

    @admin.display(description="renditions")
    def renditions_summary(self, video: Video) -> str:
        renditions = video.renditions.all()
        if not renditions:
            return "—"
        return format_html_join(
            mark_safe("<br>"), "{}", ((rendition_summary(r),) for r in renditions)
        )

    @admin.display(description="metadata")
    def metadata_pretty(self, video: Video) -> str:
        return _pretty_json(video.metadata)

    @admin.display(description="timeline")
    def timeline_summary(self, video: Video) -> str:
        if not video.timeline:
            return "—"
        return _pretty_json(
            {
                "every_s": video.timeline.get("every_s"),
                "scene_cuts": [
                    cut["at_s"] for cut in video.timeline.get("scene_cuts", [])
                ],
                "summary": video.timeline.get("summary"),
            }
        )

    def _rerun(self, request, queryset, job: str) -> None:
        queued = 0
        for video in queryset:
            try:
                services.video_reprocess(
                    video=video, jobs=[job], submitted_by=request.user
                )
                queued += 1
            except (JobStateConflict, VideoError) as error:
                messages.error(request, f"{video}: {error}")
        if queued:
            messages.success(request, f"{job} queued for {queued} video(s)")

    @admin.action(description="Read the metadata again")
    def rerun_metadata(self, request, queryset):
        self._rerun(request, queryset, "metadata")

    @admin.action(description="Make the thumbnail and contact sheet again")
    def rerun_thumbnail(self, request, queryset):
        self._rerun(request, queryset, "thumbnail")

    @admin.action(description="Make the proxy again")
    def rerun_proxy(self, request, queryset):
        self._rerun(request, queryset, "proxy")

    @admin.action(description="Analyse the frames again")
    def rerun_analysis(self, request, queryset):
        self._rerun(request, queryset, "analyze")

    def delete_model(self, request, obj):
        services.video_delete(video=obj, deleted_by=request.user)

    def delete_queryset(self, request, queryset):
        for video in queryset:
            services.video_delete(video=video, deleted_by=request.user)


@admin.register(Rendition)
class RenditionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "video",
        "profile",
        "status_and_progress",
        "method",
        "resolution",
        "size_bytes",
        "completed_at",
    ]
    list_filter = ["status", "method", "profile"]
    search_fields = ["video__title", "video__original_filename", "video__id"]
    list_select_related = ["video", "profile"]
    readonly_fields = [
        "video",
        "profile",
        "status",
        "progress_bar",
        "method",
        "file_link",
        "size_bytes",
        "width",
        "height",
        "fps",
        "duration_s",
        "job_link",
        "error_message",
        "metadata_pretty",
        "started_at",
        "completed_at",
        "created_at",
    ]
    fields = readonly_fields
    actions = ["regenerate", "cancel"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="status")
    def status_and_progress(self, rendition: Rendition) -> str:
        return rendition_summary(rendition)

    @admin.display(description="progress")
    def progress_bar(self, rendition: Rendition) -> str:
        return _progress_bar(rendition.progress)

    @admin.display(description="size")
    def resolution(self, rendition: Rendition) -> str:
        if not rendition.width:
            return "—"
        return f"{rendition.width}x{rendition.height}"

    @admin.display(description="file")
    def file_link(self, rendition: Rendition) -> str:
        if rendition.status != Rendition.Status.READY:
            return "—"
        if rendition.method == Rendition.Method.SKIP:
            return "the original serves as this rendition"
        url = reverse("api:rendition-file", kwargs={"pk": rendition.pk})
        return format_html('<a href="{}">{}</a>', url, rendition.file.name)

    @admin.display(description="job")
    def job_link(self, rendition: Rendition) -> str:
        if rendition.job_id is None:
            return "—"
        url = reverse("admin:jobs_processingjob_change", args=[rendition.job_id])
        return format_html('<a href="{}">{}</a>', url, rendition.job_id)

    @admin.display(description="metadata")
    def metadata_pretty(self, rendition: Rendition) -> str:
        return _pretty_json(rendition.metadata)

    @admin.action(description="Make again")
    def regenerate(self, request, queryset):
        for rendition in queryset.select_related("video", "profile"):
            try:
                services.rendition_request(
                    video=rendition.video,
                    profile=rendition.profile,
                    submitted_by=request.user,
                    priority=services.RERUN_PRIORITY,
                )
            except JobStateConflict as error:
                messages.error(request, f"{rendition}: {error}")
        messages.success(request, "queued")

    @admin.action(description="Cancel the job making it")
    def cancel(self, request, queryset):
        for rendition in queryset.select_related("profile"):
            try:
                services.rendition_cancel(
                    rendition=rendition, cancelled_by=request.user
                )
            except JobStateConflict as error:
                messages.warning(request, f"{rendition}: {error}")


class EncodingProfileForm(forms.ModelForm):
    class Meta:
        model = EncodingProfile
        fields = list(services.PROFILE_FIELDS)

    def _get_validation_exclusions(self):
        # Marking a profile default takes the flag from the previous one (the
        # service does, then checks the one-default constraint itself).
        return {*super()._get_validation_exclusions(), "is_default"}


@admin.register(EncodingProfile)
class EncodingProfileAdmin(admin.ModelAdmin):
    form = EncodingProfileForm
    list_display = [
        "name",
        "slug",
        "height",
        "fps",
        "preset",
        "crf",
        "audio_bitrate",
        "is_default",
        "is_auto",
        "is_active",
    ]
    list_filter = ["is_active", "is_default", "is_auto"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name]
            for name in services.PROFILE_FIELDS
            if name in form.cleaned_data
        }
        saved = services.profile_save(profile=obj if change else None, **fields)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        try:
            services.profile_delete(profile=obj)
        except JobStateConflict as error:
            messages.error(request, str(error))

    def delete_queryset(self, request, queryset):
        for profile in queryset:
            self.delete_model(request, profile)


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "protocol",
        "owner",
        "filename",
        "status_badge",
        "received",
        "expires_at",
        "video",
        "created_at",
    ]
    list_filter = ["protocol", "status"]
    search_fields = ["id", "filename", "owner__username"]
    list_select_related = ["owner", "video"]
    readonly_fields = [
        "id",
        "protocol",
        "owner",
        "status",
        "filename",
        "title",
        "size_bytes",
        "received_bytes",
        "sha256",
        "part_size_bytes",
        "part_count",
        "metadata",
        "error_message",
        "video",
        "created_at",
        "updated_at",
        "expires_at",
        "completed_at",
    ]
    fields = readonly_fields
    actions = ["abort"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="status", ordering="status")
    def status_badge(self, upload: Upload) -> str:
        return _badge(upload.status, upload.get_status_display())

    @admin.display(description="received")
    def received(self, upload: Upload) -> str:
        return _progress_bar(upload.progress_percent, "#198754")

    @admin.action(description="Abort (delete what was received)")
    def abort(self, request, queryset):
        for upload in queryset:
            try:
                services.upload_abort(upload=upload)
            except VideoError as error:
                messages.warning(request, f"{upload.id}: {error.detail}")
