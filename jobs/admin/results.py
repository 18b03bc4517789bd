"""Celery's task results, linked to the jobs they belong to.

Jobs are recorded on their own rows (the Jobs page); the results backend
holds plain tasks (the watchdog, cleanups) and the progress of jobs that
report it, settled to the job's outcome when it ends. Each result row links
to its job, whose state the column shows next to the backend's.
"""

from django.contrib import admin
from django.db.models import OuterRef
from django.db.models import Subquery
from django.db.models import UUIDField
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html
from django_celery_results.admin import TaskResultAdmin
from django_celery_results.models import TaskResult

from jobs.models import JobDispatch
from jobs.models import ProcessingJob

admin.site.unregister(TaskResult)


@admin.register(TaskResult)
class LinkedTaskResultAdmin(TaskResultAdmin):
    list_display = (*TaskResultAdmin.list_display, "job_link")

    def get_queryset(self, request):
        job_of_first_send = ProcessingJob.objects.filter(
            task_id=OuterRef("task_id")
        ).values("id")[:1]
        job_of_resend = JobDispatch.objects.filter(task_id=OuterRef("task_id")).values(
            "job_id"
        )[:1]
        return (
            super()
            .get_queryset(request)
            .annotate(
                job_pk=Coalesce(
                    Subquery(job_of_first_send),
                    Subquery(job_of_resend),
                    output_field=UUIDField(),
                )
            )
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "subtitle": "Plain Celery tasks, and jobs that reported progress; "
            "every job is on the Jobs page.",
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description="job")
    def job_link(self, result: TaskResult) -> str:
        if result.job_pk is None:
            return "—"
        url = reverse("admin:jobs_processingjob_change", args=[result.job_pk])
        return format_html('<a href="{}">{}</a>', url, str(result.job_pk)[:8])
