"""The photos app's REST resources, registered on the project's one router."""

from rest_framework.routers import BaseRouter


def register(router: BaseRouter) -> None:
    """Register this app's ViewSets (plural kebab-case prefix, singular basename)."""
