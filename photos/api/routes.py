"""The photos app's REST resources, registered on the project's one router."""

from rest_framework.routers import BaseRouter

from photos.api import views


def register(router: BaseRouter) -> None:
    """Register this app's ViewSets (plural kebab-case prefix, singular basename)."""
    router.register("photos", views.PhotoViewSet, basename="photo")
    router.register("sessions", views.PhotoSessionViewSet, basename="session")
    router.register("groups", views.SimilarGroupViewSet, basename="group")
    router.register("presets", views.PresetViewSet, basename="preset")
    router.register("exports", views.ExportViewSet, basename="export")
