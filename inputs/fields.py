"""DRF and django-filter fields that hold the project's input rules."""

from datetime import datetime

import django_filters
from django import forms
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from inputs.datetimes import DateOutOfRange
from inputs.datetimes import client_datetime_check
from inputs.datetimes import filter_datetime_check
from inputs.datetimes import offset_check


class ClientDateTimeField(serializers.DateTimeField):
    """When something happened, by the client's clock: real offset, sane window."""

    def to_internal_value(self, value) -> datetime:
        # The offset as sent: DRF's parse converts to the current time zone,
        # after which an impossible offset can no longer be seen.
        if isinstance(value, str):
            try:
                sent = parse_datetime(value.strip())
            except ValueError:
                sent = None  # DRF's own parse below names the format
            if sent is not None:
                try:
                    offset_check(sent)
                except DateOutOfRange as exc:
                    raise serializers.ValidationError(str(exc)) from None
        parsed = super().to_internal_value(value)
        try:
            return client_datetime_check(parsed)
        except DateOutOfRange as exc:
            raise serializers.ValidationError(str(exc)) from None


# The largest value a database row id (BigAutoField) or other bigint column
# holds: a bigger number is refused as input rather than overflowing the query.
LARGEST_BIGINT = 2**63 - 1


class RowIdField(serializers.IntegerField):
    """The id of a row, as a client names it: 1 up to what a bigint holds."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", LARGEST_BIGINT)
        super().__init__(**kwargs)


class _FilterDateTimeFormField(django_filters.fields.IsoDateTimeField):
    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return filter_datetime_check(parsed)
        except DateOutOfRange as exc:
            raise forms.ValidationError(str(exc)) from None


class FilterDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 datetime filter that refuses impossible offsets and far-off years (400)."""

    field_class = _FilterDateTimeFormField


class _StrictBooleanFormField(forms.Field):
    TRUE = ("true", "1", "yes", "on")
    FALSE = ("false", "0", "no", "off")

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError(
            f"use true or false, not {str(value)[:32]!r}", code="invalid"
        )


class StrictBooleanFilter(django_filters.BooleanFilter):
    """A boolean filter that refuses anything but true/false (django-filter ignores it)."""

    field_class = _StrictBooleanFormField
