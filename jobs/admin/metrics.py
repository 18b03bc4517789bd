"""Read-only admin of metrics snapshots."""

from django.contrib import admin
from django.utils.html import format_html_join

from jobs.admin.display import pretty_json
from jobs.models import MetricsSnapshot


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
        return pretty_json(snapshot.counts_by_status)

    @admin.display(description="queue depths")
    def queue_depths_pretty(self, snapshot: MetricsSnapshot) -> str:
        return pretty_json(snapshot.queue_depths)

    @admin.display(description="per job type")
    def type_stats_pretty(self, snapshot: MetricsSnapshot) -> str:
        return pretty_json(snapshot.type_stats)
