"""Malformed page numbers are a 400 naming the parameter; a page past the end is 404."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=lW", "page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page_size=x", "page_size"),
    ],
)
def test_a_malformed_page_is_a_400_naming_it(staff_client, query, field):
    response = staff_client.get(f"/api/v1/jobs/?{query}")
    assert response.status_code == 400
    assert field in response.json()["detail"]


def test_a_page_past_the_end_is_a_404(staff_client):
    assert staff_client.get("/api/v1/jobs/?page=99").status_code == 404


def test_a_bad_boolean_filter_is_a_400(staff_client):
    response = staff_client.get("/api/v1/devices/?is_active=3700")
    assert response.status_code == 400
    assert "is_active" in response.json()["detail"]
