"""Query-string filters of the videos API (django-filter)."""

import django_filters

from inputs.fields import FilterDateTimeFilter
from videos.models import Rendition
from videos.models import Video


class VideoFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Video.Status.choices)
    duration_min = django_filters.NumberFilter(
        field_name="duration_s", lookup_expr="gte", label="Duration at least (s)"
    )
    duration_max = django_filters.NumberFilter(
        field_name="duration_s", lookup_expr="lte", label="Duration at most (s)"
    )
    created_after = FilterDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = FilterDateTimeFilter(field_name="created_at", lookup_expr="lte")
    recorded_after = FilterDateTimeFilter(field_name="creation_time", lookup_expr="gte")
    recorded_before = FilterDateTimeFilter(
        field_name="creation_time", lookup_expr="lte"
    )
    owner = django_filters.CharFilter(field_name="owner__username")
    title = django_filters.CharFilter(lookup_expr="icontains")
    video_codec = django_filters.CharFilter()
    min_height = django_filters.NumberFilter(field_name="height", lookup_expr="gte")

    class Meta:
        model = Video
        fields = [
            "status",
            "duration_min",
            "duration_max",
            "created_after",
            "created_before",
            "recorded_after",
            "recorded_before",
            "owner",
            "title",
            "video_codec",
            "min_height",
        ]


class RenditionFilter(django_filters.FilterSet):
    video = django_filters.UUIDFilter(field_name="video_id")
    profile = django_filters.CharFilter(field_name="profile__slug")
    status = django_filters.ChoiceFilter(choices=Rendition.Status.choices)

    class Meta:
        model = Rendition
        fields = ["video", "profile", "status"]
