"""Failed logins are limited per username and per IP; a successful login is never slowed."""

import pytest

TOKEN = "/api/v1/auth/token/"
ADMIN_LOGIN = "/admin/login/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_per_hour(settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "login": "3/h"}


def test_token_login_failures_are_refused_with_429_after_the_budget(
    anon_client, staff_user, three_per_hour
):
    answers = [
        anon_client.post(
            TOKEN, {"username": "operator", "password": "wrong"}, format="json"
        )
        for _ in range(4)
    ]
    assert [answer.status_code for answer in answers] == [400, 400, 400, 429]
    assert int(answers[3]["Retry-After"]) >= 1
    assert answers[3].json()["error"] == "rate_limited"
    # Even the right password waits now: the username's budget is spent.
    right = anon_client.post(
        TOKEN, {"username": "operator", "password": "operator-pass-123"}, format="json"
    )
    assert right.status_code == 429


def test_successful_logins_take_nothing(anon_client, staff_user, three_per_hour):
    for _ in range(6):
        answer = anon_client.post(
            TOKEN,
            {"username": "operator", "password": "operator-pass-123"},
            format="json",
        )
        assert answer.status_code == 200


def test_failures_are_counted_per_username_across_ips(
    anon_client, staff_user, three_per_hour
):
    for n in range(3):
        anon_client.post(
            TOKEN,
            {"username": "Operator", "password": "wrong"},
            format="json",
            REMOTE_ADDR=f"127.0.0.{n + 10}",
        )
    refused = anon_client.post(
        TOKEN,
        {"username": "operator", "password": "wrong"},
        format="json",
        REMOTE_ADDR="127.0.0.99",
    )
    assert refused.status_code == 429


def test_failures_are_counted_per_ip_across_usernames(anon_client, three_per_hour):
    for name in ("a", "b", "c"):
        anon_client.post(TOKEN, {"username": name, "password": "x"}, format="json")
    refused = anon_client.post(TOKEN, {"username": "d", "password": "x"}, format="json")
    assert refused.status_code == 429


def test_admin_login_failures_are_limited_too(client, staff_user, three_per_hour):
    statuses = [
        client.post(
            ADMIN_LOGIN, {"username": "operator", "password": "wrong"}
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


def test_an_admin_login_that_succeeds_is_not_counted(
    client, staff_user, three_per_hour
):
    for _ in range(5):
        response = client.post(
            ADMIN_LOGIN, {"username": "operator", "password": "operator-pass-123"}
        )
        assert response.status_code == 302
        client.logout()
