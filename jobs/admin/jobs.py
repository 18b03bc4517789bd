"""Jobs admin: read-only rows; retry, cancel and purge after a confirmation step."""

from typing import Any

from django.contrib import admin
from django.contrib import messages
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_celery_results.models import TaskResult

from jobs import selectors
from jobs import services
from jobs.admin.display import CONFIRMATION_LIST_MAX
from jobs.admin.display import JobTypeFilter
from jobs.admin.display import PriorityFilter
from jobs.admin.display import QueueFilter
from jobs.admin.display import S
from jobs.admin.display import pretty_json
from jobs.admin.display import seconds_display
from jobs.admin.display import skipped_message
from jobs.admin.display import status_badge_html
from jobs.errors import JobStateConflict
from jobs.models import ProcessingJob


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
        return status_badge_html(job.status, job.get_status_display())

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
    def attempt_log_pretty(self, job: ProcessingJob) -> str:
        return pretty_json(job.attempt_log or None)

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
        done, skipped = 0, []
        for job_id in queryset.values_list("id", flat=True):
            try:
                act(job_id)
            except JobStateConflict as exc:
                skipped.append((job_id, str(exc)))
            except ProcessingJob.DoesNotExist:
                skipped.append((job_id, "deleted meanwhile"))
            else:
                done += 1
        self._report(request, verb=verb, done=done, skipped=skipped)

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
