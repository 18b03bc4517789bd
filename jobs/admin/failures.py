"""Failure groups: failed jobs grouped by error signature, previewed, then retried, cancelled or purged.

The list groups the window's failures (1, 7 or 30 days) by signature; a
group's page is the preview of every bulk action (how many jobs, which types
and queues, whose targets, which files a purge removes and the bytes it
frees) and holds the action buttons. An action applies to the group as the
preview showed it (`as_of`), so failures that arrive meanwhile are left for
the next look.
"""

from datetime import datetime
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import HttpResponseBadRequest
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.urls import reverse
from django.utils import timezone

from jobs import selectors
from jobs import services
from jobs.models import FailureGroup

WINDOWS_DAYS = (1, 7, 30)
ACTIONS = ("retry", "cancel", "purge")
SIGNATURE_MAX_CHARS = 1000


def _window_days(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days") or request.POST.get("days") or 0)
    except ValueError:
        days = 0
    return days if days in WINDOWS_DAYS else settings.OPS_FAILURE_WINDOW_DAYS


def _bytes_display(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


@admin.register(FailureGroup)
class FailureGroupAdmin(admin.ModelAdmin):
    """/admin/jobs/failuregroup/: the groups; /group/?signature=…: one group's preview and actions."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "group/",
                self.admin_site.admin_view(self.group_view),
                name="jobs_failuregroup_group",
            ),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, **extra}

    def _group_url(self, signature: str, days: int) -> str:
        base = reverse(
            "admin:jobs_failuregroup_group", current_app=self.admin_site.name
        )
        return f"{base}?{urlencode({'signature': signature, 'days': days})}"

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        days = _window_days(request)
        since = timezone.now() - timedelta(days=days)
        groups = selectors.failure_group_list(since=since)
        for group in groups:
            group["url"] = self._group_url(group["signature"], days)
        context = self._context(
            request,
            title="Failure groups",
            subtitle=f"last {days} day{'s' if days > 1 else ''}",
            groups=groups,
            days=days,
            windows=WINDOWS_DAYS,
            jobs_url=reverse(
                "admin:jobs_processingjob_changelist", current_app=self.admin_site.name
            ),
            **(extra_context or {}),
        )
        return TemplateResponse(
            request, "admin/jobs/failuregroup/change_list.html", context
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(
            reverse("admin:jobs_processingjob_change", args=[object_id])
        )

    # One group -----------------------------------------------------------------

    def _deletable_models(self, request: HttpRequest, labels) -> set[str]:
        from django.apps import apps

        allowed = set()
        for label in labels:
            model = apps.get_model(label)
            codename = f"{model._meta.app_label}.delete_{model._meta.model_name}"
            if request.user.has_perm(codename):
                allowed.add(label)
        return allowed

    def group_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        source = request.POST if request.method == "POST" else request.GET
        signature = source.get("signature", "")
        if not signature or len(signature) > SIGNATURE_MAX_CHARS:
            return HttpResponseBadRequest("a failure group needs its signature")
        days = _window_days(request)
        since = timezone.now() - timedelta(days=days)
        if request.method == "POST":
            return self._act(request, signature=signature, since=since, days=days)
        as_of = timezone.now()
        preview = selectors.failure_group_preview(
            signature=signature, since=since, as_of=as_of
        )
        labels = set(preview["files"]["rows"])
        deletable = self._deletable_models(request, labels)
        context = self._context(
            request,
            title="Failure group",
            preview=preview,
            signature=signature,
            days=days,
            as_of=as_of.isoformat(),
            can_change=request.user.has_perm("jobs.change_processingjob"),
            deletable=sorted(deletable),
            refused=sorted(labels - deletable),
            bytes_display=_bytes_display(preview["files"]["bytes"]),
            files_shown=preview["files"]["files"][:50],
            list_url=reverse(
                "admin:jobs_failuregroup_changelist", current_app=self.admin_site.name
            )
            + f"?days={days}",
        )
        return TemplateResponse(request, "admin/jobs/failuregroup/group.html", context)

    def _act(self, request: HttpRequest, *, signature: str, since, days: int):
        action = request.POST.get("action", "")
        if action not in ACTIONS or request.POST.get("confirm") != "yes":
            return HttpResponseBadRequest("choose retry, cancel or purge, and confirm")
        if not request.user.has_perm("jobs.change_processingjob"):
            raise PermissionDenied
        try:
            as_of = datetime.fromisoformat(request.POST.get("as_of", ""))
        except ValueError:
            return HttpResponseBadRequest("as_of must be the preview's time")
        if timezone.is_naive(as_of):
            return HttpResponseBadRequest("as_of must carry its offset")
        common = {"signature": signature, "since": since, "as_of": as_of}
        if action == "retry":
            outcome = services.failure_group_retry(**common, by=request.user)
            text = f"Retried {len(outcome.done)} job(s) of the group."
        elif action == "cancel":
            outcome = services.failure_group_cancel(**common, by=request.user)
            text = f"Cancelled {len(outcome.done)} job(s) waiting to retry."
        else:
            jobs = selectors.failure_group_jobs(**common)
            targets = selectors.failure_group_targets(
                jobs=jobs, limit=settings.OPS_BULK_MAX_JOBS
            )
            labels = {target._meta.label for target in targets}
            outcome = services.failure_group_purge(
                **common,
                by=request.user,
                deletable_models=self._deletable_models(request, labels),
            )
            details = outcome.details
            text = (
                f"Purged {details['targets_deleted']} target(s) of "
                f"{len(outcome.done)} job(s): {details['files_deleted']} file(s), "
                f"{_bytes_display(details['bytes_freed'])} freed"
                + (
                    f" ({details['sizes_unknown']} of unknown size)"
                    if details["sizes_unknown"]
                    else ""
                )
                + "."
            )
            if details["models_refused"]:
                self.message_user(
                    request,
                    "Not purged (you may not delete them): "
                    + ", ".join(details["models_refused"]),
                    messages.WARNING,
                )
        self.message_user(
            request, text, messages.SUCCESS if outcome.done else messages.INFO
        )
        if outcome.skipped:
            named = "; ".join(
                f"{job_id}: {why}" for job_id, why in outcome.skipped[:10]
            )
            self.message_user(
                request,
                f"Skipped {len(outcome.skipped)} job(s): {named}",
                messages.WARNING,
            )
        return HttpResponseRedirect(
            reverse(
                "admin:jobs_failuregroup_changelist", current_app=self.admin_site.name
            )
            + f"?days={days}"
        )
