"""A row with a date Python cannot hold (stored before dates were checked) never
breaks a list, a page or the next analysis."""

import pytest
from django.db import connection

from captures import services
from captures.tests import images

pytestmark = pytest.mark.django_db


def _poison(capture_pk: int, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE captures_capture SET captured_at = %s::timestamptz WHERE id = %s",
            [value, capture_pk],
        )


@pytest.fixture
def poisoned_capture(device_and_key, settings):
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL stores years Python cannot hold")
    settings.CAPTURES_AUTO_PROCESS = False
    settings.CAPTURES_OCR_ENABLED = False
    poisoned = services.capture_ingest(
        device=device_and_key[0], image=images.numbered(1)
    ).capture
    healthy = services.capture_ingest(
        device=device_and_key[0], image=images.numbered(2)
    ).capture
    _poison(poisoned.pk, "10000-01-01T05:00:00+00")
    return poisoned, healthy


@pytest.mark.parametrize(
    "value", ["10000-01-01T05:00:00+00", "0001-01-01T00:00:00+05 BC"]
)
def test_lists_pages_and_admin_still_answer(
    poisoned_capture, value, user_client, admin_client
):
    poisoned, healthy = poisoned_capture
    _poison(poisoned.pk, value)
    listed = user_client.get("/api/v1/captures/")
    assert listed.status_code == 200
    assert {item["id"] for item in listed.json()["results"]} >= {
        poisoned.public_id,
        healthy.public_id,
    }
    assert user_client.get(f"/api/v1/captures/{poisoned.public_id}/").status_code == 200
    assert admin_client.get("/admin/captures/capture/").status_code == 200
    page = admin_client.get(f"/admin/captures/capture/{poisoned.pk}/change/")
    assert page.status_code == 200


def test_the_next_capture_of_the_device_is_still_analysed(poisoned_capture):
    """Motion reads the previous capture: a poisoned one must not fail the next."""
    _, healthy = poisoned_capture
    observation = services.capture_analyze(capture_id=healthy.pk)
    assert observation.width == 320
