"""/v1/: the device and operator routes of the original contract."""

from django.urls import re_path

from captures import views

app_name = "captures"
urlpatterns = [
    re_path(r"^ingest/?$", views.ingest, name="ingest"),
    # The original routes answer with or without a trailing slash.
    re_path(r"^admin/stats/?$", views.AdminStatsView.as_view(), name="admin-stats"),
    re_path(
        r"^admin/process-capture/(?P<capture_id>[^/]+)/?$",
        views.AdminProcessCaptureView.as_view(),
        name="admin-process-capture",
    ),
    re_path(
        r"^admin/process-pending/?$",
        views.AdminProcessPendingView.as_view(),
        name="admin-process-pending",
    ),
    re_path(
        r"^admin/task-status/(?P<task_id>[^/]+)/?$",
        views.AdminTaskStatusView.as_view(),
        name="admin-task-status",
    ),
    re_path(
        r"^admin/queue-info/?$",
        views.AdminQueueInfoView.as_view(),
        name="admin-queue-info",
    ),
]
