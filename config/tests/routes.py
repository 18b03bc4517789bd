"""Every route of the URL configuration, walked from the resolver (never listed by hand),
with a sample path and the HTTP methods it answers; shared by the hostile-input tests."""

import re
from dataclasses import dataclass

from django.apps import apps
from django.db import connection
from django.urls import URLPattern
from django.urls import URLResolver
from django.urls import get_resolver
from django.urls.resolvers import RegexPattern
from django.urls.resolvers import RoutePattern

from config.api_errors import JSON_PATH_PREFIXES

PROJECT_APPS = ("jobs", "captures", "photos", "videos", "documents")
BODY_METHODS = ("post", "put", "patch")
SAMPLE_UUID = "0b7e3f1a-5c2d-4e6f-8a9b-1c2d3e4f5a6b"
# A value per path parameter name: unknown objects, so views answer 404 (or
# 400 for a malformed id), never touching a real row.
_SAMPLES = {
    "task_id": SAMPLE_UUID,
    "job_id": SAMPLE_UUID,
    "name": "default",
    "device_id": "no-such-device",
    "public_id": "cap_none",
    "capture_id": "cap_none",
}


@dataclass(frozen=True)
class Route:
    path: str
    methods: tuple[str, ...]
    view: object
    params: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.path

    @property
    def json_clients(self) -> bool:
        """Programs call it: every error it answers is JSON."""
        return self.path.startswith(JSON_PATH_PREFIXES) and not self.path.startswith(
            ("/api/docs/", "/api/redoc/")
        )


def sample_value(name: str) -> str:
    return _SAMPLES.get(name, SAMPLE_UUID if name.endswith("_id") else "1")


def _piece(pattern, names: list[str]) -> str | None:
    """The pattern's text with each parameter replaced by a sample value."""

    def sample(match: re.Match) -> str:
        names.append(match.group(1))
        return sample_value(match.group(1))

    if isinstance(pattern, RoutePattern):
        return re.sub(r"<(?:\w+:)?(\w+)>", sample, str(pattern))
    if isinstance(pattern, RegexPattern):
        regex = pattern._regex
        if "(?P<format>" in regex:
            return None  # DRF's format-suffix twins of every route
        text = re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", sample, regex)
        return text.lstrip("^").rstrip("$").replace("/?", "/").replace("\\", "")
    return None


def _methods(callback) -> tuple[str, ...]:
    actions = getattr(callback, "actions", None)
    if actions:
        return tuple(sorted(actions))
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None:
        names = getattr(view_class, "http_method_names", [])
        return tuple(
            sorted(
                name
                for name in names
                if name not in ("options", "head", "trace")
                and hasattr(view_class, name)
            )
        )
    return ("get", "post")


def _walk(patterns, prefix: list):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, [*prefix, pattern.pattern])
        elif isinstance(pattern, URLPattern):
            yield [*prefix, pattern.pattern], pattern.callback


def all_routes(*, include_admin: bool = False) -> list[Route]:
    """Every route but format-suffix twins (and, unless asked, the admin's)."""
    routes: dict[str, Route] = {}
    for patterns, callback in _walk(get_resolver().url_patterns, []):
        names: list[str] = []
        pieces = [_piece(pattern, names) for pattern in patterns]
        if any(piece is None for piece in pieces) or "format" in names:
            continue
        path = "/" + "".join(pieces)
        if path.startswith("/admin/") and not include_admin:
            continue
        routes.setdefault(path, Route(path, _methods(callback), callback, tuple(names)))
    return sorted(routes.values(), key=lambda route: route.path)


def row_counts() -> dict[str, int]:
    """Rows of every model of the project's apps: what a refused request must not change.

    (CI checks that every model has its migration, so a table missing here
    is a model still being written, not a bug to hide.)
    """
    tables = set(connection.introspection.table_names())
    return {
        model._meta.label: model._default_manager.count()
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
        if model._meta.db_table in tables
    }
