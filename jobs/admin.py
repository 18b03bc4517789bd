"""Admin of the job engine: jobs (read-only, with retry/cancel/purge), queues, metrics.

Services own every state change: the admin shows rows and calls services,
it never saves a job, queue or snapshot itself.
"""

import json
from typing import Any

from django.contrib import admin
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch
from django.urls import path
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.html import format_html_join
from django.views.decorators.http import require_POST
from django_celery_results.models import TaskResult

from jobs import selectors
from jobs import services
from jobs.errors import JobStateConflict
from jobs.models import MetricsSnapshot
from jobs.models import ProcessingJob
from jobs.models import QueueState
from jobs.registry import job_type_list

S = ProcessingJob.Status

STATUS_COLOURS = {
    S.QUEUED: "#6c757d",
    S.RUNNING: "#0d6efd",
    S.RETRYING: "#fd7e14",
    S.COMPLETED: "#198754",
    S.FAILED: "#dc3545",
    S.CANCELLED: "#343a40",
}
# The confirmation page names this many jobs; the rest are counted.
CONFIRMATION_LIST_MAX = 100
# A result message names this many skipped jobs; the rest are counted.
SKIPPED_LIST_MAX = 10


def _pretty_json(value: Any) -> str:
    if value is None:
        return "—"
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text)


def _seconds_display(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _status_badge(status: str, label: str) -> str:
    return format_html(
        '<span style="background: {}; color: #fff; padding: 2px 8px; '
        'border-radius: 10px; font-size: 11px; white-space: nowrap">{}</span>',
        STATUS_COLOURS.get(status, "#6c757d"),
        label,
    )


class JobTypeFilter(admin.SimpleListFilter):
    """Job types from the registry: no DISTINCT over the whole jobs table."""

    title = "job type"
    parameter_name = "job_type"

    def lookups(self, request, model_admin):
        return [(job_type.name, job_type.name) for job_type in job_type_list()]

    def queryset(self, request, queryset):
        return queryset.filter(job_type=self.value()) if self.value() else queryset


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [(name, name) for name in services.queue_names()]

    def queryset(self, request, queryset):
        return queryset.filter(queue=self.value()) if self.value() else queryset


class PriorityFilter(admin.SimpleListFilter):
    title = "priority"
    parameter_name = "priority"

    def lookups(self, request, model_admin):
        return [(str(priority), str(priority)) for priority in range(9, -1, -1)]

    def queryset(self, request, queryset):
        if self.value() in {str(priority) for priority in range(10)}:
            return queryset.filter(priority=int(self.value()))
        return queryset


def _skipped_message(verb: str, skipped: list[tuple[Any, str]]) -> str:
    named = "; ".join(
        f"{job_id}: {reason}" for job_id, reason in skipped[:SKIPPED_LIST_MAX]
    )
    more = len(skipped) - SKIPPED_LIST_MAX
    tail = f"; and {more} more" if more > 0 else ""
    return f"Skipped {len(skipped)} job(s) that could not be {verb}: {named}{tail}"


@admin.register(ProcessingJob)
class ProcessingJobAdmin(admin.ModelAdmin):
    list_display = [
        "short_id",
        "status_badge",
        "progress_bar",
        "job_type",
        "target_link",
        "queue",
        "priority",
        "attempts_display",
        "worker",
        "duration",
        "queued_at",
    ]
    list_filter = ["status", JobTypeFilter, QueueFilter, PriorityFilter]
    search_fields = [
        "id",
        "job_type",
        "object_id",
        "error_message",
        "worker",
        "idempotency_key",
    ]
    date_hierarchy = "queued_at"
    list_select_related = ["content_type"]
    list_per_page = 50
    # Counting the whole table again for "N total" is slow on a big one.
    show_full_result_count = False
    actions = ["retry_jobs", "cancel_jobs", "purge_jobs"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "id",
                    "job_type",
                    "status_badge",
                    "progress_bar",
                    "progress_message",
                    "target_link",
                    "queue",
                    "priority",
                ]
            },
        ),
        (
            "Attempts",
            {
                "fields": [
                    "attempts_display",
                    "max_retries",
                    "dispatch_generation",
                    "worker",
                ]
            },
        ),
        (
            "Timing",
            {
                "fields": [
                    "queued_at",
                    "started_at",
                    "completed_at",
                    "heartbeat_at",
                    "duration",
                ]
            },
        ),
        (
            "Submission",
            {"fields": ["submitted_by", "idempotency_key", "celery_result_link"]},
        ),
        ("Input and output", {"fields": ["params_pretty", "result_pretty"]}),
        (
            "Errors and history",
            {"fields": ["error_message", "traceback_pretty", "attempt_log_pretty"]},
        ),
    ]
    readonly_fields = [
        "id",
        "job_type",
        "status_badge",
        "progress_bar",
        "progress_message",
        "target_link",
        "queue",
        "priority",
        "attempts_display",
        "max_retries",
        "dispatch_generation",
        "worker",
        "queued_at",
        "started_at",
        "completed_at",
        "heartbeat_at",
        "duration",
        "submitted_by",
        "idempotency_key",
        "celery_result_link",
        "params_pretty",
        "result_pretty",
        "error_message",
        "traceback_pretty",
        "attempt_log_pretty",
    ]

    # Permissions: services own the rows. The change view is a read-only
    # detail page; the actions need the change permission on the model.

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return False
        return super().has_change_permission(request)

    # Columns and detail fields.

    @admin.display(description="id", ordering="id")
    def short_id(self, job: ProcessingJob) -> str:
        return str(job.id)[:8]

    @admin.display(description="status", ordering="status")
    def status_badge(self, job: ProcessingJob) -> str:
        return _status_badge(job.status, job.get_status_display())

    @admin.display(description="progress", ordering="progress")
    def progress_bar(self, job: ProcessingJob) -> str:
        return format_html(
            '<progress value="{}" max="100" title="{}" style="width: 80px">{}%</progress> {}%',
            job.progress,
            job.progress_message or f"{job.progress}%",
            job.progress,
            job.progress,
        )

    @admin.display(description="target")
    def target_link(self, job: ProcessingJob) -> str:
        if job.content_type_id is None:
            return "—"
        content_type = job.content_type
        label = f"{content_type.model} #{job.object_id}"
        model = content_type.model_class()
        if model is None or not self.admin_site.is_registered(model):
            return label
        try:
            url = reverse(
                f"admin:{content_type.app_label}_{content_type.model}_change",
                args=[job.object_id],
                current_app=self.admin_site.name,
            )
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description="attempts", ordering="attempts")
    def attempts_display(self, job: ProcessingJob) -> str:
        return f"{job.attempts}/{job.max_retries + 1}"

    @admin.display(description="duration")
    def duration(self, job: ProcessingJob) -> str:
        if job.duration_s is not None:
            return _seconds_display(job.duration_s)
        if job.status == S.RUNNING and job.started_at:
            elapsed_s = (timezone.now() - job.started_at).total_seconds()
            return f"{_seconds_display(elapsed_s)} so far"
        return "—"

    @admin.display(description="Celery result")
    def celery_result_link(self, job: ProcessingJob) -> str:
        result = (
            TaskResult.objects.filter(task_id=str(job.id)).only("pk", "status").first()
        )
        if result is None:
            return "—"
        url = reverse(
            "admin:django_celery_results_taskresult_change",
            args=[result.pk],
            current_app=self.admin_site.name,
        )
        return format_html('<a href="{}">{}</a>', url, result.status)

    @admin.display(description="params")
    def params_pretty(self, job: ProcessingJob) -> str:
        return _pretty_json(job.params)

    @admin.display(description="result")
    def result_pretty(self, job: ProcessingJob) -> str:
        return _pretty_json(job.result)

    @admin.display(description="traceback")
    def traceback_pretty(self, job: ProcessingJob) -> str:
        if not job.traceback:
            return "—"
        return format_html(
            '<pre style="white-space: pre-wrap; margin: 0">{}</pre>', job.traceback
        )

    @admin.display(description="attempt log")
    def attempt_log_pretty(self, job: ProcessingJob) -> str:
        return _pretty_json(job.attempt_log or None)

    # Actions: a confirmation page first, then a service call per job.

    def _confirm(
        self,
        request: HttpRequest,
        queryset,
        *,
        action: str,
        title: str,
        explanation: str,
    ) -> TemplateResponse:
        jobs = list(queryset.select_related("content_type")[:CONFIRMATION_LIST_MAX])
        total = queryset.count()
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "explanation": explanation,
            "opts": self.opts,
            "jobs": jobs,
            "total": total,
            "not_shown": total - len(jobs),
            "action": action,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "selected_ids": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(
            request, "admin/jobs/processingjob/action_confirmation.html", context
        )

    def _report(
        self,
        request: HttpRequest,
        *,
        verb: str,
        done: int,
        skipped: list[tuple[Any, str]],
    ) -> None:
        level = messages.SUCCESS if done else messages.INFO
        self.message_user(request, f"{verb.capitalize()} {done} job(s).", level)
        if skipped:
            self.message_user(
                request, _skipped_message(verb, skipped), messages.WARNING
            )

    @admin.action(
        description="Retry selected failed or cancelled jobs", permissions=["change"]
    )
    def retry_jobs(self, request: HttpRequest, queryset):
        if request.POST.get("confirm") != "yes":
            return self._confirm(
                request,
                queryset,
                action="retry_jobs",
                title="Retry these jobs?",
                explanation=(
                    "Each failed or cancelled job is queued again as a new attempt; "
                    "its history is kept. Other jobs are skipped."
                ),
            )
        done, skipped = 0, []
        for job_id in queryset.values_list("id", flat=True):
            try:
                services.job_retry(job_id=job_id, retried_by=request.user)
            except JobStateConflict as exc:
                skipped.append((job_id, str(exc)))
            except ProcessingJob.DoesNotExist:
                skipped.append((job_id, "deleted meanwhile"))
            else:
                done += 1
        self._report(request, verb="retried", done=done, skipped=skipped)
        return None

    @admin.action(description="Cancel selected active jobs", permissions=["change"])
    def cancel_jobs(self, request: HttpRequest, queryset):
        if request.POST.get("confirm") != "yes":
            return self._confirm(
                request,
                queryset,
                action="cancel_jobs",
                title="Cancel these jobs?",
                explanation=(
                    "Queued and retrying jobs will not start; running jobs are "
                    "terminated. Finished jobs are skipped."
                ),
            )
        done, skipped = 0, []
        for job_id in queryset.values_list("id", flat=True):
            try:
                services.job_cancel(job_id=job_id, cancelled_by=request.user)
            except JobStateConflict as exc:
                skipped.append((job_id, str(exc)))
            except ProcessingJob.DoesNotExist:
                skipped.append((job_id, "deleted meanwhile"))
            else:
                done += 1
        self._report(request, verb="cancelled", done=done, skipped=skipped)
        return None

    @admin.action(
        description="Purge selected waiting jobs from the broker",
        permissions=["change"],
    )
    def purge_jobs(self, request: HttpRequest, queryset):
        if request.POST.get("confirm") != "yes":
            return self._confirm(
                request,
                queryset,
                action="purge_jobs",
                title="Purge these jobs?",
                explanation=(
                    "The waiting messages of queued and retrying jobs are removed "
                    "from Redis and the jobs are cancelled. Running and finished "
                    "jobs are skipped."
                ),
            )
        selection = list(queryset.values_list("id", "status"))
        waiting = [
            job_id for job_id, status in selection if status in (S.QUEUED, S.RETRYING)
        ]
        skipped = [
            (job_id, f"job is {status}; only queued or retrying jobs can be purged")
            for job_id, status in selection
            if status not in (S.QUEUED, S.RETRYING)
        ]
        done = services.jobs_purge(job_ids=waiting) if waiting else 0
        if done < len(waiting):
            # Some started or finished between the page and the purge.
            left = selectors.job_list(filters={"id__in": waiting}).exclude(
                status=S.CANCELLED
            )
            skipped += [
                (job.id, f"job became {job.status} before the purge") for job in left
            ]
        self._report(request, verb="purged", done=done, skipped=skipped)
        return None


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
            cancelled = services.queue_purge(queue=name)
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


@admin.register(MetricsSnapshot)
class MetricsSnapshotAdmin(admin.ModelAdmin):
    list_display = ["taken_at", "jobs_by_status", "queue_depths_display"]
    date_hierarchy = "taken_at"
    fields = ["taken_at", "counts_pretty", "queue_depths_pretty", "type_stats_pretty"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="jobs by status")
    def jobs_by_status(self, snapshot: MetricsSnapshot) -> str:
        return (
            format_html_join(
                " ", "{}: {}", sorted((snapshot.counts_by_status or {}).items())
            )
            or "—"
        )

    @admin.display(description="queue depths")
    def queue_depths_display(self, snapshot: MetricsSnapshot) -> str:
        return (
            format_html_join(
                " ", "{}: {}", sorted((snapshot.queue_depths or {}).items())
            )
            or "—"
        )

    @admin.display(description="counts by status")
    def counts_pretty(self, snapshot: MetricsSnapshot) -> str:
        return _pretty_json(snapshot.counts_by_status)

    @admin.display(description="queue depths")
    def queue_depths_pretty(self, snapshot: MetricsSnapshot) -> str:
        return _pretty_json(snapshot.queue_depths)

    @admin.display(description="per job type")
    def type_stats_pretty(self, snapshot: MetricsSnapshot) -> str:
        return _pretty_json(snapshot.type_stats)
