"""Read-only admin of metrics snapshots, shown as tables."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.html import format_html_join

from jobs.admin.display import moment_display
from jobs.models import MetricsSnapshot

QUEUE_COLUMNS = ("waiting", "in_broker", "reserved", "running")
TYPE_COLUMNS = (
    "total",
    "completed",
    "failed",
    "cancelled",
    "success_rate",
    "failure_rate",
    "avg_duration_s",
)


def _table(headers, rows) -> str:
    head = format_html_join("", "<th>{}</th>", ((header,) for header in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        (
            (format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),)
            for row in rows
        ),
    )
    return format_html(
        '<table class="ops-subtable"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
        head,
        body,
    )


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _rate(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@admin.register(MetricsSnapshot)
class MetricsSnapshotAdmin(admin.ModelAdmin):
    list_display = ["taken_at_display", "jobs_by_status", "queue_depths_display"]
    date_hierarchy = "taken_at"
    fields = ["taken_at_display", "counts_table", "queue_table", "type_table"]
    readonly_fields = fields

    class Media:
        css = {"all": ["jobs/ops/ops.css"]}

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="taken at (UTC)", ordering="taken_at")
    def taken_at_display(self, snapshot: MetricsSnapshot) -> str:
        return moment_display(snapshot.taken_at)

    @admin.display(description="jobs by status")
    def jobs_by_status(self, snapshot: MetricsSnapshot) -> str:
        return (
            format_html_join(
                " ", "{}: {}", sorted((snapshot.counts_by_status or {}).items())
            )
            or "—"
        )

    @admin.display(description="waiting per queue")
    def queue_depths_display(self, snapshot: MetricsSnapshot) -> str:
        def waiting(depth):
            return depth.get("waiting", "—") if isinstance(depth, dict) else depth

        return (
            format_html_join(
                " ",
                "{}: {}",
                (
                    (queue, waiting(depth))
                    for queue, depth in sorted((snapshot.queue_depths or {}).items())
                ),
            )
            or "—"
        )

    @admin.display(description="jobs by status")
    def counts_table(self, snapshot: MetricsSnapshot) -> str:
        counts = snapshot.counts_by_status or {}
        return _table(["status", "jobs"], sorted(counts.items())) if counts else "—"

    @admin.display(description="queues")
    def queue_table(self, snapshot: MetricsSnapshot) -> str:
        depths = snapshot.queue_depths or {}
        if not depths:
            return "—"
        rows = []
        for queue, depth in sorted(depths.items()):
            if not isinstance(depth, dict):
                depth = {"waiting": depth}
            rows.append(
                [queue, *(_cell(depth.get(column)) for column in QUEUE_COLUMNS)]
            )
        return _table(["queue", "waiting", "in Redis", "reserved", "running"], rows)

    @admin.display(description="per job type")
    def type_table(self, snapshot: MetricsSnapshot) -> str:
        stats = [row for row in snapshot.type_stats or [] if isinstance(row, dict)]
        if not stats:
            return "—"
        rows = [
            [
                row.get("job_type", "?"),
                *(
                    _rate(row.get(column))
                    if column.endswith("_rate")
                    else _cell(row.get(column))
                    for column in TYPE_COLUMNS
                ),
            ]
            for row in stats
        ]
        return _table(
            [
                "job type",
                "jobs",
                "completed",
                "failed",
                "cancelled",
                "success rate",
                "failure rate",
                "average run (s)",
            ],
            rows,
        )
