"""The one DRF router: the whole REST surface under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from jobs.api import views as jobs_views

router = DefaultRouter()
router.register("jobs", jobs_views.ProcessingJobViewSet, basename="job")
router.register("queues", jobs_views.QueueViewSet, basename="queue")
router.register("workers", jobs_views.WorkerViewSet, basename="worker")
router.register("tasks", jobs_views.TaskViewSet, basename="task")

app_name = "api"
urlpatterns = [
    path("auth/token/", jobs_views.AuthTokenView.as_view(), name="auth-token"),
    *router.urls,
]
