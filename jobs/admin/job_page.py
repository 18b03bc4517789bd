"""A job's page in the admin: its story (timeline, attempts, lineage), its target's preview,
and retry / cancel buttons that call the engine's services and log who acted.
"""

import mimetypes
from typing import Any

from django.contrib import messages
from django.contrib.admin.models import CHANGE
from django.contrib.admin.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.http import Http404
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch
from django.urls import path
from django.urls import reverse
from django.views.decorators.http import require_POST

from jobs import selectors
from jobs import services
from jobs.errors import JobStateConflict
from jobs.models import ProcessingJob

# Files served inline by the preview view; anything else is a download.
INLINE_TYPES = {
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "video/x-m4v",
    "application/pdf",
}


def log_job_change(request: HttpRequest, job_ids: list[Any], message: str) -> None:
    """An admin LogEntry per job (its History page) for an action done from the admin."""
    if job_ids and getattr(request.user, "pk", None):
        LogEntry.objects.log_actions(
            user_id=request.user.pk,
            queryset=ProcessingJob.objects.filter(id__in=job_ids).only(
                "id", "job_type", "status"
            ),
            action_flag=CHANGE,
            change_message=message,
        )


def _may_view(request: HttpRequest, target) -> bool:
    """Files of a target are shown to those who may view that kind of target."""
    opts = target._meta
    return request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}")


class JobPageMixin:
    """Adds the job page's extras to ProcessingJobAdmin (see the module docstring)."""

    change_form_template = "admin/jobs/processingjob/change_form.html"

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(view)

        return [
            path(
                "<path:object_id>/retry/",
                wrap(self.retry_view),
                name="jobs_processingjob_retry",
            ),
            path(
                "<path:object_id>/cancel/",
                wrap(self.cancel_view),
                name="jobs_processingjob_cancel",
            ),
            path(
                "<path:object_id>/preview/<str:key>/",
                wrap(self.preview_file_view),
                name="jobs_processingjob_preview_file",
            ),
            *super().get_urls(),
        ]

    def _job_or_404(self, object_id: str) -> ProcessingJob:
        try:
            return selectors.job_get(job_id=object_id)
        except (ProcessingJob.DoesNotExist, ValidationError):
            raise Http404(f"no job with id {object_id!r}") from None

    def _can_act(self, request: HttpRequest) -> bool:
        return request.user.has_perm("jobs.change_processingjob")

    # The page ------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        try:
            job = selectors.job_get(job_id=object_id)
        except (ProcessingJob.DoesNotExist, ValidationError):
            job = None  # the admin answers an unknown id itself
        if job is not None and self.has_view_or_change_permission(request, job):
            extra_context.update(self._story_context(request, job))
        return super().change_view(request, object_id, form_url, extra_context)

    def _story_context(self, request: HttpRequest, job: ProcessingJob) -> dict:
        name = self.admin_site.name
        target = selectors.target_get(job=job)
        previews = []
        if target is not None and _may_view(request, target):
            for item in selectors.target_preview_list(target=target):
                item = dict(item)
                if "key" in item and "url" not in item:
                    item["url"] = reverse(
                        "admin:jobs_processingjob_preview_file",
                        args=[job.pk, item["key"]],
                        current_app=name,
                    )
                if "poster_key" in item and "poster" not in item:
                    item["poster"] = reverse(
                        "admin:jobs_processingjob_preview_file",
                        args=[job.pk, item["poster_key"]],
                        current_app=name,
                    )
                previews.append(item)
        return {
            "job": job,
            "timeline": selectors.job_timeline_get(job=job),
            "attempts": selectors.job_attempt_list(job=job),
            "lineage": selectors.job_lineage_get(job=job),
            "next_retry_at": selectors.job_next_retry_at(job=job),
            "deliveries": selectors.job_webhook_delivery_list(job=job),
            "target": target,
            "target_missing": job.content_type_id is not None and target is None,
            "target_admin_url": self._target_admin_url(job),
            "previews": previews,
            "can_act": self._can_act(request),
            "can_retry": job.status
            in (ProcessingJob.Status.FAILED, ProcessingJob.Status.CANCELLED),
            "can_cancel": job.status in ProcessingJob.ACTIVE_STATUSES,
            "retry_url": reverse(
                "admin:jobs_processingjob_retry", args=[job.pk], current_app=name
            ),
            "cancel_url": reverse(
                "admin:jobs_processingjob_cancel", args=[job.pk], current_app=name
            ),
        }

    def _target_admin_url(self, job: ProcessingJob) -> str | None:
        if job.content_type_id is None:
            return None
        content_type = job.content_type
        model = content_type.model_class()
        if model is None or not self.admin_site.is_registered(model):
            return None
        try:
            return reverse(
                f"admin:{content_type.app_label}_{content_type.model}_change",
                args=[job.object_id],
                current_app=self.admin_site.name,
            )
        except NoReverseMatch:
            return None

    # Buttons ---------------------------------------------------------------------

    def retry_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(self._retry)(request, object_id)

    def _retry(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self._can_act(request):
            raise PermissionDenied
        job = self._job_or_404(object_id)
        try:
            services.job_retry(job_id=job.pk, retried_by=request.user)
        except JobStateConflict as exc:
            self.message_user(request, str(exc), messages.WARNING)
        else:
            log_job_change(request, [job.pk], "Retried from the job page")
            self.message_user(request, "Queued again as a new attempt.")
        return HttpResponseRedirect(self._page_url(job))

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(self._cancel)(request, object_id)

    def _cancel(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self._can_act(request):
            raise PermissionDenied
        job = self._job_or_404(object_id)
        try:
            services.job_cancel(job_id=job.pk, cancelled_by=request.user)
        except JobStateConflict as exc:
            self.message_user(request, str(exc), messages.WARNING)
        else:
            log_job_change(request, [job.pk], "Cancelled from the job page")
            self.message_user(request, "Cancelled.")
        return HttpResponseRedirect(self._page_url(job))

    def _page_url(self, job: ProcessingJob) -> str:
        return reverse(
            "admin:jobs_processingjob_change",
            args=[job.pk],
            current_app=self.admin_site.name,
        )

    # The target's files ------------------------------------------------------------

    def preview_file_view(self, request: HttpRequest, object_id: str, key: str):
        """One file of the job's target (or of a row pointing at it), for staff who may view jobs."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        job = self._job_or_404(object_id)
        target = selectors.target_get(job=job)
        if target is None:
            raise Http404("the job's target is gone")
        if not _may_view(request, target):
            raise PermissionDenied
        item = next(
            (
                item
                for item in selectors.target_files(target=target)
                if item["key"] == key
            ),
            None,
        )
        if item is None:
            raise Http404("no such file on the target")
        content_type, _ = mimetypes.guess_type(item["name"])
        try:
            handle = item["file"].storage.open(item["name"], "rb")
        except (OSError, ValueError):
            raise Http404("the file is missing from the storage") from None
        inline = content_type in INLINE_TYPES
        response = FileResponse(
            handle,
            content_type=content_type if inline else "application/octet-stream",
            as_attachment=not inline,
            filename=item["name"].rsplit("/", 1)[-1],
        )
        response["Cache-Control"] = "private, max-age=300"
        return response
