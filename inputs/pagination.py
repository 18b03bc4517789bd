"""Pagination that refuses a malformed page number (400) rather than calling it missing."""

from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination


class StrictPageNumberPagination(PageNumberPagination):
    """`page` must be a positive integer (or "last"); a page past the end is 404."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if (
            raw is not None
            and raw not in self.last_page_strings
            and (not raw.isdigit() or int(raw) < 1)
        ):
            raise serializers.ValidationError(
                {
                    self.page_query_param: f"a page number is a positive integer, not {raw[:32]!r}"
                }
            )
        size = request.query_params.get(self.page_size_query_param)
        if size is not None and (
            not size.isdigit() or not 1 <= int(size) <= self.max_page_size
        ):
            raise serializers.ValidationError(
                {
                    self.page_size_query_param: f"a page size is an integer from 1 to {self.max_page_size}, "
                    f"not {size[:32]!r}"
                }
            )
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        """page ≥ 1 and 1 ≤ page_size ≤ max_page_size, as the checks above hold them."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters
