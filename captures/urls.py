"""/v1/: the device and operator routes of the original contract."""

from django.urls import path
from django.urls import re_path

from captures import views

app_name = "captures"
urlpatterns = [
    re_path(r"^ingest/?$", views.ingest, name="ingest"),
    path("admin/stats", views.AdminStatsView.as_view(), name="admin-stats"),
    path(
        "admin/process-capture/<str:capture_id>",
        views.AdminProcessCaptureView.as_view(),
        name="admin-process-capture",
    ),
    path(
        "admin/process-pending",
        views.AdminProcessPendingView.as_view(),
        name="admin-process-pending",
    ),
    path(
        "admin/task-status/<str:task_id>",
        views.AdminTaskStatusView.as_view(),
        name="admin-task-status",
    ),
    path(
        "admin/queue-info", views.AdminQueueInfoView.as_view(), name="admin-queue-info"
    ),
]
