"""The DRF and django-filter fields that hold the project's date rules."""

import pytest
from django.utils import timezone
from rest_framework import serializers

from inputs.fields import ClientDateTimeField


class Incoming(serializers.Serializer):
    at = ClientDateTimeField()


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-01T00:00:00+15:00",
        "2026-01-01T00:00:00-14:30",
        "9999-12-31T23:00:00-05:00",
        "1901-01-01T00:00:00Z",
        "2999-01-01T00:00:00Z",
        "not a date",
    ],
)
def test_impossible_offsets_and_far_dates_are_refused(value):
    incoming = Incoming(data={"at": value})
    assert incoming.is_valid() is False
    assert "at" in incoming.errors


def test_a_real_offset_near_now_is_accepted_as_the_same_instant():
    sent = timezone.now().astimezone(timezone.get_fixed_timezone(14 * 60))
    incoming = Incoming(data={"at": sent.isoformat()})
    assert incoming.is_valid() is True, incoming.errors
    assert abs((incoming.validated_data["at"] - sent).total_seconds()) < 1
