"""Hostile input, fed to every route the URL configuration has (walked, not listed):
never a 5xx, always a JSON 4xx on API and device routes, nothing stored.

Run on PostgreSQL in CI: it refuses NUL characters and dates that SQLite lets
through, so a gap here would be a 500 there.
"""

import json

import pytest

from config.tests.routes import BODY_METHODS
from config.tests.routes import all_routes
from config.tests.routes import row_counts

pytestmark = pytest.mark.django_db

ROUTES = all_routes()
BODY_ROUTES = [
    (route, method)
    for route in ROUTES
    for method in route.methods
    if method in BODY_METHODS
]
NESTED_BODIES = {
    "arrays": "[" * 20_000 + "]" * 20_000,
    "objects": '{"a":' * 20_000 + "1" + "}" * 20_000,
    "mixed": '{"jobs": ' + "[{" * 3_000 + '"x": 1' + "}]" * 3_000 + "}",
}
NUL_BODIES = {
    "value": {"name": "cam\u0000era", "device_id": "esp\u0000", "job_type": "x\u0000"},
    "key": {"na\u0000me": "x", "params": {"a\u0000": 1}},
    "nested": {"job_type": "jobs.diagnostic", "params": {"result": "a\u0000b"}},
    "list": {"jobs": [{"job_type": "jobs.diagnostic", "params": {"r": ["\u0000"]}}]},
}


def _is_readiness_down(route, response) -> bool:
    """/readyz answers 503 by design when no worker runs (none does here)."""
    return route.path == "/readyz" and response.status_code == 503


def _client(request, who: str):
    return request.getfixturevalue(
        {"anonymous": "anon_client", "staff": "staff_client"}[who]
    )


def _assert_refused_as_json(response, route) -> None:
    assert response.status_code < 500, (route.path, response.status_code)
    assert 400 <= response.status_code < 500, (route.path, response.status_code)
    if route.json_clients:
        body = response.json()
        assert set(body) >= {"error", "detail"}, (route.path, body)


@pytest.mark.parametrize("who", ["anonymous", "staff"])
@pytest.mark.parametrize("shape", sorted(NESTED_BODIES))
@pytest.mark.parametrize(
    ("route", "method"), BODY_ROUTES, ids=[f"{m} {r.path}" for r, m in BODY_ROUTES]
)
def test_deeply_nested_json_is_refused_with_400(request, route, method, shape, who):
    client = _client(request, who)
    before = row_counts()
    response = getattr(client, method)(
        route.path, data=NESTED_BODIES[shape], content_type="application/json"
    )
    _assert_refused_as_json(response, route)
    assert row_counts() == before


@pytest.mark.parametrize("who", ["anonymous", "staff"])
@pytest.mark.parametrize("shape", sorted(NUL_BODIES))
@pytest.mark.parametrize(
    ("route", "method"), BODY_ROUTES, ids=[f"{m} {r.path}" for r, m in BODY_ROUTES]
)
def test_nul_in_a_json_body_is_refused(request, route, method, shape, who):
    client = _client(request, who)
    before = row_counts()
    response = getattr(client, method)(
        route.path, data=json.dumps(NUL_BODIES[shape]), content_type="application/json"
    )
    _assert_refused_as_json(response, route)
    assert row_counts() == before


@pytest.mark.parametrize(
    ("route", "method"), BODY_ROUTES, ids=[f"{m} {r.path}" for r, m in BODY_ROUTES]
)
def test_nul_in_form_and_multipart_fields_is_refused(staff_client, route, method):
    before = row_counts()
    for content_type, body in (
        ("application/x-www-form-urlencoded", "name=cam%00era&device_id=a%00"),
        (
            "multipart/form-data; boundary=B",
            '--B\r\nContent-Disposition: form-data; name="name"\r\n\r\ncam\x00era\r\n'
            "--B--\r\n",
        ),
    ):
        response = getattr(staff_client, method)(
            route.path, data=body, content_type=content_type
        )
        assert response.status_code < 500, (route.path, content_type)
        assert response.status_code >= 400, (route.path, content_type)
    assert row_counts() == before


@pytest.mark.parametrize("who", ["anonymous", "staff"])
@pytest.mark.parametrize("route", ROUTES, ids=[route.path for route in ROUTES])
def test_nul_in_the_query_string_is_a_400(request, route, who):
    client = _client(request, who)
    for method in route.methods:
        response = getattr(client, method)(route.path + "?q=a%00b&page=1%00&status=%00")
        assert response.status_code == 400, (method, route.path, response.status_code)
        assert response.json()["error"] == "invalid_query"


@pytest.mark.parametrize(
    "route",
    [route for route in ROUTES if route.params],
    ids=[route.path for route in ROUTES if route.params],
)
def test_nul_in_a_path_parameter_is_a_400(staff_client, route):
    for method in route.methods:
        path = route.path
        for name in route.params:
            from config.tests.routes import sample_value

            path = path.replace(sample_value(name), "a%00b", 1)
        response = getattr(staff_client, method)(path)
        assert response.status_code == 400, (method, path, response.status_code)


@pytest.mark.parametrize("route", ROUTES, ids=[route.path for route in ROUTES])
def test_every_route_answers_the_browsable_and_the_json_renderer(staff_client, route):
    """The HTML renderer (a browser) and JSON both answer every GET without a 5xx."""
    if "get" not in route.methods:
        pytest.skip("no GET")
    for accept in ("text/html", "application/json"):
        response = staff_client.get(route.path, HTTP_ACCEPT=accept)
        assert response.status_code < 500 or _is_readiness_down(route, response), (
            route.path,
            accept,
            response.status_code,
        )


@pytest.mark.parametrize("route", ROUTES, ids=[route.path for route in ROUTES])
def test_anonymous_clients_get_json_errors_on_api_and_device_routes(anon_client, route):
    for method in route.methods:
        response = getattr(anon_client, method)(route.path)
        assert response.status_code < 500 or _is_readiness_down(route, response), (
            method,
            route.path,
        )
        if (
            route.json_clients
            and response.status_code >= 400
            and not _is_readiness_down(route, response)
        ):
            assert set(response.json()) >= {"error", "detail"}, (method, route.path)


def _date_filters(route) -> list[str]:
    import django_filters

    view_class = getattr(route.view, "cls", None)
    filterset = getattr(view_class, "filterset_class", None)
    if (
        filterset is None
        or "list" not in (getattr(route.view, "actions", {}) or {}).values()
    ):
        return []
    return [
        name
        for name, field in filterset.base_filters.items()
        if isinstance(field, django_filters.DateTimeFilter | django_filters.DateFilter)
    ]


DATE_ROUTES = [route for route in ROUTES if _date_filters(route)]
BAD_DATES = [
    "2026-01-01T00:00:00+23:40",
    "2026-01-01T00:00:00-21:40",
    "9999-12-31T23:00:00-05:00",
    "0001-01-01T00:30:00+05:00",
    "2026-13-45T99:00:00Z",
]


def test_some_list_routes_have_date_filters():
    assert DATE_ROUTES, "the walk found no date filter: the test would prove nothing"


@pytest.mark.parametrize("value", BAD_DATES)
@pytest.mark.parametrize(
    "route", DATE_ROUTES, ids=[route.path for route in DATE_ROUTES]
)
def test_out_of_range_dates_and_offsets_in_filters_are_a_400(
    staff_client, route, value
):
    for name in _date_filters(route):
        response = staff_client.get(route.path, {name: value})
        assert response.status_code == 400, (route.path, name, value, response.content)
        assert name in response.json()["detail"], response.json()
