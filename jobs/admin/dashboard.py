"""The operator's dashboard: queues, throughput, workers and their jobs, stuck jobs, live.

The page is drawn once by the server and then refreshed by
static/jobs/ops/dashboard.js, which polls the JSON views below every
OPS_DASHBOARD_POLL_S while the tab is visible. Buttons post to the action
views, which call the engine's services and answer JSON.
"""

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.models import CHANGE
from django.contrib.admin.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.http import require_POST

from jobs import selectors
from jobs import services
from jobs.models import Dashboard
from jobs.models import ProcessingJob
from jobs.models import QueueState

QUEUE_ACTIONS = ("pause", "resume", "purge")
JOB_ACTIONS = ("rerun", "fail")


def _json(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, encoder=DjangoJSONEncoder)


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return _json({"error": code, "detail": detail}, status=status)


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin):
    """/admin/jobs/dashboard/: the live dashboard (no rows of its own)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(view)

        return [
            path("data/", wrap(self.data_view), name="jobs_dashboard_data"),
            path("charts/", wrap(self.charts_view), name="jobs_dashboard_charts"),
            path(
                "queues/<str:name>/<str:action>/",
                wrap(self.queue_action_view),
                name="jobs_dashboard_queue_action",
            ),
            path(
                "jobs/<str:job_id>/<str:action>/",
                wrap(self.job_action_view),
                name="jobs_dashboard_job_action",
            ),
            *super().get_urls(),
        ]

    # Permissions: viewing follows the dashboard's own view permission;
    # queue buttons need the right to change queues, job buttons the right
    # to change jobs.

    def _can_change_queues(self, request: HttpRequest) -> bool:
        return request.user.has_perm("jobs.change_queuestate")

    def _can_change_jobs(self, request: HttpRequest) -> bool:
        return request.user.has_perm("jobs.change_processingjob")

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        name = self.admin_site.name
        config = {
            "dataUrl": reverse("admin:jobs_dashboard_data", current_app=name),
            "chartsUrl": reverse("admin:jobs_dashboard_charts", current_app=name),
            "queueActionUrl": reverse(
                "admin:jobs_dashboard_queue_action",
                args=["QUEUE", "ACTION"],
                current_app=name,
            ),
            "jobActionUrl": reverse(
                "admin:jobs_dashboard_job_action",
                args=["JOB", "ACTION"],
                current_app=name,
            ),
            "jobUrl": reverse(
                "admin:jobs_processingjob_change", args=["JOB"], current_app=name
            ),
            "jobsUrl": reverse("admin:jobs_processingjob_changelist", current_app=name),
            "pollS": settings.OPS_DASHBOARD_POLL_S,
            "chartsPollS": settings.OPS_CHARTS_POLL_S,
            "canChangeQueues": self._can_change_queues(request),
            "canChangeJobs": self._can_change_jobs(request),
        }
        context = {
            **self.admin_site.each_context(request),
            "title": "Dashboard",
            "opts": self.opts,
            "ops_config": config,
            "initial_data": selectors.dashboard_get(),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/jobs/dashboard/dashboard.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return self.changelist_view(request)

    # JSON views --------------------------------------------------------------

    def data_view(self, request: HttpRequest) -> HttpResponse:
        return require_GET(self._data)(request)

    def _data(self, request: HttpRequest) -> JsonResponse:
        if not self.has_view_permission(request):
            return _error(403, "permission_denied", "you may not view the dashboard")
        return _json(selectors.dashboard_get())

    def charts_view(self, request: HttpRequest) -> HttpResponse:
        return require_GET(self._charts)(request)

    def _charts(self, request: HttpRequest) -> JsonResponse:
        if not self.has_view_permission(request):
            return _error(403, "permission_denied", "you may not view the dashboard")
        return _json(selectors.dashboard_charts_get())

    def queue_action_view(self, request: HttpRequest, name: str, action: str):
        return require_POST(self._queue_action)(request, name, action)

    def _queue_action(self, request: HttpRequest, name: str, action: str):
        if action not in QUEUE_ACTIONS:
            return _error(404, "not_found", f"unknown action {action!r}")
        if not self._can_change_queues(request):
            return _error(403, "permission_denied", "you may not change queues")
        try:
            services.queue_validate(queue=name)
        except ValidationError:
            return _error(404, "not_found", f"unknown queue {name!r}")
        if action == "pause":
            services.queue_pause(queue=name, paused_by=request.user)
            message = f"Paused queue {name}: no job of it starts until it is resumed."
        elif action == "resume":
            services.queue_resume(queue=name)
            message = f"Resumed queue {name}."
        else:
            cancelled = services.queue_purge(queue=name, purged_by=request.user)
            message = f"Purged queue {name}: {cancelled} waiting job(s) cancelled."
        state = QueueState.objects.filter(name=name).first()
        if state is not None:
            LogEntry.objects.log_actions(
                user_id=request.user.pk,
                queryset=[state],
                action_flag=CHANGE,
                change_message=message,
            )
        return _json({"ok": True, "message": message})

    def job_action_view(self, request: HttpRequest, job_id: str, action: str):
        return require_POST(self._job_action)(request, job_id, action)

    def _job_action(self, request: HttpRequest, job_id: str, action: str):
        if action not in JOB_ACTIONS:
            return _error(404, "not_found", f"unknown action {action!r}")
        if not self._can_change_jobs(request):
            return _error(403, "permission_denied", "you may not change jobs")
        try:
            selectors.job_get(job_id=job_id)
        except (ProcessingJob.DoesNotExist, ValidationError):
            return _error(404, "not_found", f"no job with id {job_id!r}")
        if action == "rerun":
            outcome = services.jobs_rerun(job_ids=[job_id], by=request.user)
            verb = "Re-ran"
        else:
            outcome = services.jobs_fail(job_ids=[job_id], by=request.user)
            verb = "Failed"
        if outcome.skipped:
            return _error(409, "conflict", outcome.skipped[0][1])
        return _json({"ok": True, "message": f"{verb} job {job_id}."})
