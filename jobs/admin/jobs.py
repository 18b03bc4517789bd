"""Jobs admin: read-only rows; retry, cancel and purge after a confirmation step."""

from typing import Any

from django.contrib import admin
from django.contrib import messages
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.html import format_html
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django_celery_results.models import TaskResult

from jobs import selectors
from jobs import services
from jobs.admin.display import CONFIRMATION_LIST_MAX
from jobs.admin.display import JobTypeFilter
from jobs.admin.display import PriorityFilter
from jobs.admin.display import QueueFilter
from jobs.admin.display import S
from jobs.admin.display import moment_display
from jobs.admin.display import pretty_json
from jobs.admin.display import seconds_display
from jobs.admin.display import skipped_message
from jobs.admin.display import status_badge_html
from jobs.admin.job_page import JobPageMixin
from jobs.admin.job_page import log_job_change
from jobs.errors import JobStateConflict
from jobs.models import ProcessingJob


@admin.register(ProcessingJob)
class ProcessingJobAdmin(JobPageMixin, admin.ModelAdmin):
    # At 1440 px, between the navigation and filter sidebars, every column
    # must fit: cells pair a figure with smaller ones under it (type with
    # queue, priority and target; status and progress; queued-at and wait;
    # duration and attempts; error and next retry).
    list_display = [
        "short_id",
        "job_cell",
        "status_cell",
        "worker_cell",
        "queued_cell",
        "duration_cell",
        "error_cell",
    ]
    # A queued-at filter rather than a date hierarchy: the hierarchy's
    # DISTINCT over the months of the whole table took 0.3 s at a million rows.
    list_filter = [
        "status",
        JobTypeFilter,
        QueueFilter,
        PriorityFilter,
        ("queued_at", admin.DateFieldListFilter),
    ]

    class Media:
        css = {"all": ["jobs/ops/ops.css"]}

    search_fields = [
        "id",
        "job_type",
        "object_id",
        "error_message",
        "worker",
        "idempotency_key",
    ]
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
            "Timing (UTC)",
            {
                "fields": [
                    "queued_at_display",
                    "started_at_display",
                    "completed_at_display",
                    "heartbeat_at_display",
                    "wait_display",
                    "duration",
                    "next_retry_display",
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
            {"fields": ["error_message", "traceback_pretty", "attempt_log_table"]},
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
        "queued_at_display",
        "started_at_display",
        "completed_at_display",
        "heartbeat_at_display",
        "wait_display",
        "duration",
        "next_retry_display",
        "submitted_by",
        "idempotency_key",
        "celery_result_link",
        "params_pretty",
        "result_pretty",
        "error_message",
        "traceback_pretty",
        "attempt_log_table",
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

    @admin.display(description="job", ordering="job_type")
    def job_cell(self, job: ProcessingJob) -> str:
        # Long type names break after their dots rather than widen the list.
        job_type = mark_safe(  # each part is escaped
            ".<wbr>".join(conditional_escape(part) for part in job.job_type.split("."))
        )
        return format_html(
            '{}<span class="ops-cell-small">{} · p{} · {}</span>',
            job_type,
            job.queue,
            job.priority,
            self.target_link(job),
        )

    @admin.display(description="worker", ordering="worker")
    def worker_cell(self, job: ProcessingJob) -> str:
        return format_html('<span class="ops-cell-worker">{}</span>', job.worker or "—")

    @admin.display(description="queued at", ordering="queued_at")
    def queued_cell(self, job: ProcessingJob) -> str:
        return format_html(
            '<span title="{}">{}</span><span class="ops-cell-small">wait {}</span>',
            moment_display(job.queued_at),
            moment_display(job.queued_at)[5:],
            self.wait_display(job).replace(" so far", "…"),
        )

    @admin.display(description="duration")
    def duration_cell(self, job: ProcessingJob) -> str:
        if job.duration_s is not None:
            took = seconds_display(job.duration_s)
        elif job.status == S.RUNNING and job.started_at:
            took = seconds_display((timezone.now() - job.started_at).total_seconds())
            took = f"{took}…"
        else:
            took = "—"
        return format_html(
            '{}<span class="ops-cell-small">attempt {}</span>',
            took,
            self.attempts_display(job),
        )

    @admin.display(description="status", ordering="status")
    def status_cell(self, job: ProcessingJob) -> str:
        badge = status_badge_html(job.status, job.get_status_display())
        # A bar for a running job, or where a stopped one got to; none for
        # a completed job (always 100%) or one that never reported.
        stopped_midway = job.status != S.COMPLETED and 0 < job.progress < 100
        if job.status != S.RUNNING and not stopped_midway:
            return badge
        return format_html(
            '{}<span class="ops-cell-small">{}</span>', badge, self.progress_bar(job)
        )

    @admin.display(description="queued at (UTC)", ordering="queued_at")
    def queued_at_display(self, job: ProcessingJob) -> str:
        return moment_display(job.queued_at)

    @admin.display(description="started at")
    def started_at_display(self, job: ProcessingJob) -> str:
        return moment_display(job.started_at)

    @admin.display(description="completed at")
    def completed_at_display(self, job: ProcessingJob) -> str:
        return moment_display(job.completed_at)

    @admin.display(description="last heartbeat")
    def heartbeat_at_display(self, job: ProcessingJob) -> str:
        return moment_display(job.heartbeat_at)

    @admin.display(description="wait")
    def wait_display(self, job: ProcessingJob) -> str:
        if job.started_at and job.started_at >= job.queued_at:
            return seconds_display((job.started_at - job.queued_at).total_seconds())
        if job.status in (S.QUEUED, S.RETRYING):
            waited_s = (timezone.now() - job.queued_at).total_seconds()
            return f"{seconds_display(waited_s)} so far"
        return "—"

    @admin.display(description="next retry")
    def next_retry_display(self, job: ProcessingJob) -> str:
        due = selectors.job_next_retry_at(job=job)
        if due is None:
            return "—"
        left_s = (due - timezone.now()).total_seconds()
        when = "due now" if left_s <= 0 else f"in {seconds_display(left_s)}"
        return f"{moment_display(due)} ({when})"

    @admin.display(description="error / next retry")
    def error_cell(self, job: ProcessingJob) -> str:
        if job.status == S.RETRYING:
            due = selectors.job_next_retry_at(job=job)
            left_s = (due - timezone.now()).total_seconds() if due else 0
            return format_html(
                '<span class="ops-cell-error" title="{}">{}</span>'
                '<span class="ops-cell-retry">next retry {}</span>',
                job.error_message,
                Truncator(job.error_message).chars(70),
                f"{moment_display(due)[11:]} ({'due' if left_s <= 0 else 'in ' + seconds_display(left_s)})"
                if due
                else "soon",
            )
        if job.error_message and job.status in (S.FAILED, S.CANCELLED):
            return format_html(
                '<span class="ops-cell-error" title="{}">{}</span>',
                job.error_message,
                Truncator(job.error_message).chars(70),
            )
        return ""

    @admin.display(description="status", ordering="status")
    def status_badge(self, job: ProcessingJob) -> str:
        return status_badge_html(job.status, job.get_status_display())

    @admin.display(description="progress", ordering="progress")
    def progress_bar(self, job: ProcessingJob) -> str:
        return format_html(
            '<progress value="{}" max="100" title="{}" style="width: 40px">{}%</progress> {}%',
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
            return seconds_display(job.duration_s)
        if job.status == S.RUNNING and job.started_at:
            elapsed_s = (timezone.now() - job.started_at).total_seconds()
            return f"{seconds_display(elapsed_s)} so far"
        return "—"

    @admin.display(description="Celery result")
    def celery_result_link(self, job: ProcessingJob) -> str:
        result = (
            TaskResult.objects.filter(task_id__in=selectors.job_task_ids(job=job))
            .only("pk", "status")
            .order_by("-date_done")
            .first()
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
        return pretty_json(job.params)

    @admin.display(description="result")
    def result_pretty(self, job: ProcessingJob) -> str:
        return pretty_json(job.result)

    @admin.display(description="traceback")
    def traceback_pretty(self, job: ProcessingJob) -> str:
        if not job.traceback:
            return "—"
        return format_html(
            '<pre style="white-space: pre-wrap; margin: 0">{}</pre>', job.traceback
        )

    @admin.display(description="attempt log")
    def attempt_log_table(self, job: ProcessingJob) -> str:
        if not job.attempt_log:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    moment_display(entry.get("at")) if isinstance(entry, dict) else "",
                    entry.get("event", "") if isinstance(entry, dict) else "",
                    entry.get("by", "") if isinstance(entry, dict) else "",
                    _entry_details(entry),
                )
                for entry in job.attempt_log
            ),
        )
        return format_html(
            '<table class="ops-subtable"><thead><tr><th>at (UTC)</th><th>event</th>'
            "<th>by</th><th>details</th></tr></thead><tbody>{}</tbody></table>"
            "<details><summary>raw (JSON)</summary>{}</details>",
            rows,
            pretty_json(job.attempt_log),
        )

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
            self.message_user(request, skipped_message(verb, skipped), messages.WARNING)

    def _apply_each(self, request: HttpRequest, queryset, *, verb: str, act) -> None:
        """Call a job service per selected job; a job whose state forbids it is skipped."""
        done, skipped = [], []
        for job_id in queryset.values_list("id", flat=True):
            try:
                act(job_id)
            except JobStateConflict as exc:
                skipped.append((job_id, str(exc)))
            except ProcessingJob.DoesNotExist:
                skipped.append((job_id, "deleted meanwhile"))
            else:
                done.append(job_id)
        log_job_change(
            request, done, f"{verb.capitalize()} by the admin action ({len(done)} jobs)"
        )
        self._report(request, verb=verb, done=len(done), skipped=skipped)

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
        self._apply_each(
            request,
            queryset,
            verb="retried",
            act=lambda job_id: services.job_retry(
                job_id=job_id, retried_by=request.user
            ),
        )
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
        self._apply_each(
            request,
            queryset,
            verb="cancelled",
            act=lambda job_id: services.job_cancel(
                job_id=job_id, cancelled_by=request.user
            ),
        )
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
        done = (
            services.jobs_purge(job_ids=waiting, purged_by=request.user)
            if waiting
            else 0
        )
        log_job_change(
            request,
            list(
                selectors.job_list(
                    filters={"id__in": waiting, "status": S.CANCELLED}
                ).values_list("id", flat=True)
            ),
            f"Purged by the admin action ({done} jobs)",
        )
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


def _entry_details(entry) -> str:
    if not isinstance(entry, dict):
        return str(entry)
    return "; ".join(
        f"{key.replace('_', ' ')}: {value}"
        for key, value in entry.items()
        if key not in ("at", "event", "by") and value not in (None, "")
    )
