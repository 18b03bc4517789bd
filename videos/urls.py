"""Routes of the videos app outside /api/v1/ (the original system's routes)."""

from django.urls import path

from videos import views

app_name = "videos"
urlpatterns = [
    path("jobs/<uuid:job_id>/status", views.JobStatusView.as_view(), name="job-status"),
]
