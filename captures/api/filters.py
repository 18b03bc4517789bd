"""Query-string filters of the captures API (django-filter)."""

import django_filters

from captures.models import Capture
from captures.models import Device
from captures.models import Observation
from inputs.fields import FilterDateTimeFilter
from inputs.fields import StrictBooleanFilter


class DeviceFilter(django_filters.FilterSet):
    is_active = StrictBooleanFilter()

    class Meta:
        model = Device
        fields = ["is_active"]


class CaptureFilter(django_filters.FilterSet):
    device = django_filters.CharFilter(field_name="device__device_id")
    status = django_filters.ChoiceFilter(choices=Capture.Status.choices)
    received_after = FilterDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = FilterDateTimeFilter(field_name="received_at", lookup_expr="lte")

    class Meta:
        model = Capture
        fields = ["device", "status", "received_after", "received_before"]


class ObservationFilter(django_filters.FilterSet):
    device = django_filters.CharFilter(field_name="capture__device__device_id")
    capture = django_filters.CharFilter(field_name="capture__public_id")
    people_count__gt = django_filters.NumberFilter(
        field_name="people_count", lookup_expr="gt"
    )
    faces_count__gt = django_filters.NumberFilter(
        field_name="faces_count", lookup_expr="gt"
    )
    code = django_filters.CharFilter(
        method="filter_code", label="QR/barcode value contains"
    )
    label = django_filters.CharFilter(method="filter_label", label="Has this label")
    analyzer_name = django_filters.CharFilter()

    class Meta:
        model = Observation
        fields = [
            "device",
            "capture",
            "people_count__gt",
            "faces_count__gt",
            "code",
            "label",
            "analyzer_name",
        ]

    def filter_code(self, queryset, name, value):
        return queryset.filter(code_index__icontains=value.strip().lower())

    def filter_label(self, queryset, name, value):
        return queryset.filter(label_index__contains=f"\n{value.strip().lower()}\n")
