from django.contrib import admin
from django.urls import include
from django.urls import path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView
from drf_spectacular.views import SpectacularRedocView
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from jobs.metrics import MetricsView
from jobs.views import HealthCheckView
from jobs.views import ReadinessView

urlpatterns = [
    # The site's front door is the operator's: the admin ("View site" leads here).
    path(
        "",
        RedirectView.as_view(
            url="/admin/", permanent=False, http_method_names=["get", "head"]
        ),
        name="home",
    ),
    path("admin/", admin.site.urls),
    path("healthz", HealthCheckView.as_view(), name="healthz"),
    path("readyz", ReadinessView.as_view(), name="readyz"),
    path("metrics", MetricsView.as_view(), name="metrics"),
    path("api/v1/", include("config.api_router")),
    path("v1/", include("captures.urls")),
    # The original systems' routes of the other media apps, at their own paths.
    path("", include("photos.urls")),
    path("", include("videos.urls")),
    path("", include("documents.urls")),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[AllowAny]),
        name="api-schema",
    ),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(
            url_name="api-schema", permission_classes=[AllowAny]
        ),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(
            url_name="api-schema", permission_classes=[AllowAny]
        ),
        name="api-redoc",
    ),
]

handler400 = "config.api_errors.bad_request"
handler403 = "config.api_errors.permission_denied"
handler404 = "config.api_errors.page_not_found"
handler500 = "config.api_errors.server_error"
