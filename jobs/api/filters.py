from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django_filters import rest_framework as filters

from inputs.fields import FilterDateTimeFilter
from jobs.models import ProcessingJob

_target_type_format = RegexValidator(
    r"^[A-Za-z_]\w*\.[A-Za-z_]\w*$",
    "target_type must be 'app_label.model', e.g. 'captures.capture'",
)


class ProcessingJobFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ProcessingJob.Status.choices)
    job_type = filters.CharFilter()
    queue = filters.CharFilter()
    target_type = filters.CharFilter(
        method="filter_target_type",
        validators=[_target_type_format],
        help_text="The target's content type as 'app_label.model'.",
    )
    target_id = filters.CharFilter(field_name="object_id", help_text="The target's id.")
    queued_after = FilterDateTimeFilter(field_name="queued_at", lookup_expr="gte")
    queued_before = FilterDateTimeFilter(field_name="queued_at", lookup_expr="lte")

    class Meta:
        model = ProcessingJob
        fields = [
            "status",
            "job_type",
            "queue",
            "target_type",
            "target_id",
            "queued_after",
            "queued_before",
        ]

    def filter_target_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        app_label, model = value.lower().split(".")
        return queryset.filter(
            content_type__app_label=app_label, content_type__model=model
        )
