"""Query-string filters of the documents API (django-filter)."""

import django_filters

from documents.models import Document
from documents.models import Receipt
from inputs.fields import FilterDateTimeFilter


class DocumentFilter(django_filters.FilterSet):
    collection = django_filters.NumberFilter(field_name="collection_id")
    status = django_filters.ChoiceFilter(choices=Document.Status.choices)
    kind = django_filters.ChoiceFilter(choices=Document.Kind.choices)
    created_after = FilterDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = FilterDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = Document
        fields = ["collection", "status", "kind", "created_after", "created_before"]


class ReceiptFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Receipt.Status.choices)
    merchant = django_filters.CharFilter(lookup_expr="icontains")
    purchased_after = django_filters.DateFilter(
        field_name="purchase_date", lookup_expr="gte"
    )
    purchased_before = django_filters.DateFilter(
        field_name="purchase_date", lookup_expr="lte"
    )

    class Meta:
        model = Receipt
        fields = ["status", "merchant", "purchased_after", "purchased_before"]
