"""The queues page: every known queue, live depth, pause/resume/purge."""

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.urls import reverse
from django.views.decorators.http import require_POST

from jobs import selectors
from jobs import services
from jobs.models import QueueState


@admin.register(QueueState)
class QueueStateAdmin(admin.ModelAdmin):
    """The queues page: every known queue, live depth and pause state, pause/resume/purge.

    Rendered from selectors.queue_list(), so a queue shows before it has a
    QueueState row (the row appears on its first pause).
    """

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(view)

        return [
            path(
                "<str:name>/pause/", wrap(self.pause_view), name="jobs_queuestate_pause"
            ),
            path(
                "<str:name>/resume/",
                wrap(self.resume_view),
                name="jobs_queuestate_resume",
            ),
            path(
                "<str:name>/purge/", wrap(self.purge_view), name="jobs_queuestate_purge"
            ),
            *super().get_urls(),
        ]

    def _changelist_url(self) -> str:
        return reverse(
            "admin:jobs_queuestate_changelist", current_app=self.admin_site.name
        )

    def _queue_or_404(self, name: str) -> dict[str, Any]:
        try:
            return selectors.queue_get(name=name)
        except ValidationError:
            raise Http404(f"unknown queue {name!r}") from None

    def _require_change_permission(self, request: HttpRequest) -> None:
        if not self.has_change_permission(request):
            raise PermissionDenied

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        jobs_url = reverse(
            "admin:jobs_processingjob_changelist", current_app=self.admin_site.name
        )
        queues = [
            {**queue, "jobs_url": f"{jobs_url}?queue={queue['name']}"}
            for queue in selectors.queue_list()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Queues",
            "opts": self.opts,
            "queues": queues,
            "can_change": self.has_change_permission(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/jobs/queuestate/queues.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return redirect(self._changelist_url())

    def pause_view(self, request: HttpRequest, name: str) -> HttpResponse:
        return require_POST(self._pause)(request, name)

    def resume_view(self, request: HttpRequest, name: str) -> HttpResponse:
        return require_POST(self._resume)(request, name)

    def _pause(self, request: HttpRequest, name: str) -> HttpResponse:
        self._require_change_permission(request)
        self._queue_or_404(name)
        services.queue_pause(queue=name, paused_by=request.user)
        self.message_user(
            request, f"Paused queue {name}: no job of it starts until it is resumed."
        )
        return HttpResponseRedirect(self._changelist_url())

    def _resume(self, request: HttpRequest, name: str) -> HttpResponse:
        self._require_change_permission(request)
        self._queue_or_404(name)
        services.queue_resume(queue=name)
        self.message_user(request, f"Resumed queue {name}.")
        return HttpResponseRedirect(self._changelist_url())

    def purge_view(self, request: HttpRequest, name: str) -> HttpResponse:
        self._require_change_permission(request)
        queue = self._queue_or_404(name)
        if request.method == "POST":
            cancelled = services.queue_purge(queue=name, purged_by=request.user)
            self.message_user(
                request, f"Purged queue {name}: {cancelled} waiting job(s) cancelled."
            )
            return HttpResponseRedirect(self._changelist_url())
        context = {
            **self.admin_site.each_context(request),
            "title": f"Purge queue {name}?",
            "opts": self.opts,
            "queue": queue,
        }
        return TemplateResponse(
            request, "admin/jobs/queuestate/purge_confirmation.html", context
        )
