"""Who sees what: staff (and internal callers, user=None) everything, others their own."""

from typing import Any

from django.db.models import QuerySet


def visible(queryset: QuerySet, *, user: Any, owner_path: str) -> QuerySet:
    """All rows for staff or user=None, the user's own rows otherwise, none for anonymous."""
    if user is None or getattr(user, "is_staff", False):
        return queryset
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    return queryset.filter(**{owner_path: user})
