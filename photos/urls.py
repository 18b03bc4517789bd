"""Routes of the photos app outside /api/v1/ (the original system's routes)."""

urlpatterns: list = []
