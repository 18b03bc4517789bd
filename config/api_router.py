"""The one DRF router: the whole REST surface under /api/v1/.

Each media app registers its own ViewSets through `<app>.api.routes.register`.
"""

from django.urls import path
from rest_framework.routers import DefaultRouter

from captures.api import views as captures_views
from documents.api import routes as documents_routes
from jobs.api import views as jobs_views
from photos.api import routes as photos_routes
from videos.api import routes as videos_routes

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
photos_routes.register(router)
videos_routes.register(router)
documents_routes.register(router)

app_name = "api"
urlpatterns = [
    path("auth/token/", jobs_views.AuthTokenView.as_view(), name="auth-token"),
    *router.urls,
]
