"""Filters of the photos API: session, score, context, camera, date, group, preset."""

import django_filters
from django.db.models import Q

from inputs.fields import FilterDateTimeFilter
from photos.models import Export
from photos.models import Photo
from photos.models import SimilarGroup
from photos.presets import CONTEXT_LABELS


class PhotoFilter(django_filters.FilterSet):
    session = django_filters.NumberFilter(field_name="session_id")
    status = django_filters.ChoiceFilter(choices=Photo.Status.choices)
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte")
    score_max = django_filters.NumberFilter(field_name="score", lookup_expr="lte")
    context = django_filters.MultipleChoiceFilter(
        choices=[(label, label) for label in CONTEXT_LABELS],
        method="filter_context",
        help_text="A context label; repeat it to ask for several (all must apply).",
    )
    camera = django_filters.CharFilter(
        method="filter_camera", help_text="Part of the camera's make or model."
    )
    lens = django_filters.CharFilter(field_name="lens", lookup_expr="icontains")
    taken_after = FilterDateTimeFilter(field_name="taken_at", lookup_expr="gte")
    taken_before = FilterDateTimeFilter(field_name="taken_at", lookup_expr="lt")
    group = django_filters.NumberFilter(field_name="group_id")
    is_best_in_group = django_filters.BooleanFilter()
    preset = django_filters.NumberFilter(field_name="preset_id")
    format = django_filters.CharFilter(field_name="format", lookup_expr="iexact")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("score", "score"),
            ("taken_at", "taken_at"),
            ("created_at", "created_at"),
        )
    )

    class Meta:
        model = Photo
        fields = []

    def filter_context(self, queryset, name, labels):
        for label in labels:
            queryset = queryset.filter(context_index__contains=f"\n{label}\n")
        return queryset

    def filter_camera(self, queryset, name, value):
        return queryset.filter(
            Q(camera_make__icontains=value) | Q(camera_model__icontains=value)
        )


class SimilarGroupFilter(django_filters.FilterSet):
    session = django_filters.NumberFilter(field_name="session_id")

    class Meta:
        model = SimilarGroup
        fields = []


class ExportFilter(django_filters.FilterSet):
    photo = django_filters.NumberFilter(field_name="photo_id")
    status = django_filters.ChoiceFilter(choices=Export.Status.choices)
    format = django_filters.ChoiceFilter(choices=Export.Format.choices)

    class Meta:
        model = Export
        fields = []
