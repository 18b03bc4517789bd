"""The original photo bridge's /queue/ routes (with or without a trailing slash)."""

from django.urls import re_path

from photos import views

app_name = "photos"
urlpatterns = [
    re_path(r"^queue/submit/?$", views.QueueSubmitView.as_view(), name="queue-submit"),
    re_path(r"^queue/batch/?$", views.QueueBatchView.as_view(), name="queue-batch"),
    re_path(
        r"^queue/session/(?P<session_id>[^/]+)/?$",
        views.QueueSessionView.as_view(),
        name="queue-session",
    ),
    re_path(
        r"^queue/status/(?P<task_id>[^/]+)/?$",
        views.QueueStatusView.as_view(),
        name="queue-status",
    ),
    re_path(r"^queue/stats/?$", views.QueueStatsView.as_view(), name="queue-stats"),
    re_path(
        r"^queue/workers/?$", views.QueueWorkersView.as_view(), name="queue-workers"
    ),
    re_path(r"^queue/failed/?$", views.QueueFailedView.as_view(), name="queue-failed"),
    re_path(
        r"^queue/cancel/(?P<task_id>[^/]+)/?$",
        views.QueueCancelView.as_view(),
        name="queue-cancel",
    ),
    re_path(r"^queue/pause/?$", views.QueuePauseView.as_view(), name="queue-pause"),
    re_path(r"^queue/resume/?$", views.QueueResumeView.as_view(), name="queue-resume"),
    re_path(r"^queue/purge/?$", views.QueuePurgeView.as_view(), name="queue-purge"),
    re_path(
        r"^queue/retry/(?P<task_id>[^/]+)/?$",
        views.QueueRetryView.as_view(),
        name="queue-retry",
    ),
]
