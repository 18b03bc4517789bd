"""No N+1 queries: every admin changelist and API list answers in the same number
of queries whatever the number of rows.

Each app's models need a factory (`<app>.tests.factories.<Model>Factory`); a
model registered in the admin or listed by the API without one fails here.
"""

import importlib

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.api_router import router

PROJECT_APPS = ("jobs", "captures", "photos", "videos", "documents")
pytestmark = pytest.mark.django_db


def factory_for(model):
    module = importlib.import_module(f"{model._meta.app_label}.tests.factories")
    try:
        return getattr(module, f"{model.__name__}Factory")
    except AttributeError:
        pytest.fail(f"no {model.__name__}Factory in {module.__name__}")


def admin_models() -> list:
    return sorted(
        (
            model
            for model in admin.site._registry
            if model._meta.app_label in PROJECT_APPS
        ),
        key=lambda model: model._meta.label,
    )


def api_lists() -> list[tuple[str, type]]:
    lists = []
    for prefix, viewset, _ in router.registry:
        model = getattr(getattr(viewset, "queryset", None), "model", None)
        if model is None:
            serializer = getattr(viewset, "serializer_class", None)
            model = getattr(getattr(serializer, "Meta", None), "model", None)
        if model is not None and hasattr(viewset, "list"):
            lists.append((prefix, model))
    return sorted(lists)


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


@pytest.mark.parametrize("model", admin_models(), ids=lambda model: model._meta.label)
def test_admin_changelist_queries_do_not_grow_with_rows(admin_client, model):
    factory = factory_for(model)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    factory.create_batch(2)
    few = queries_for(admin_client, url)
    factory.create_batch(6)
    assert queries_for(admin_client, url) == few


@pytest.mark.parametrize(
    ("prefix", "model"), api_lists(), ids=[prefix for prefix, _ in api_lists()]
)
def test_api_list_queries_do_not_grow_with_rows(staff_client, prefix, model):
    factory = factory_for(model)
    url = f"/api/v1/{prefix}/"
    factory.create_batch(2)
    few = queries_for(staff_client, url)
    factory.create_batch(6)
    assert queries_for(staff_client, url) == few
