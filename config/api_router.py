"""The one DRF router: the whole REST surface under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from captures.api import views as captures_views
from jobs.api import views as jobs_views

router = DefaultRouter()
router.register("jobs", jobs_views.ProcessingJobViewSet, basename="job")
router.register("queues", jobs_views.QueueViewSet, basename="queue")
router.register("workers", jobs_views.WorkerViewSet, basename="worker")
router.register("tasks", jobs_views.TaskViewSet, basename="task")
router.register("devices", captures_views.DeviceViewSet, basename="device")
router.register("captures", captures_views.CaptureViewSet, basename="capture")
router.register(
    "observations", captures_views.ObservationViewSet, basename="observation"
)

app_name = "api"
urlpatterns = [
    path("auth/token/", jobs_views.AuthTokenView.as_view(), name="auth-token"),
    *router.urls,
]
