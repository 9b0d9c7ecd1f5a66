"""Keyset pages for API lists: one indexed range scan a page and no COUNT, in every list's own order."""

from __future__ import annotations

from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from portico.web.keyset import keyset_page


class KeysetPages(BasePagination):
    """Keyset pages (`portico.web.keyset`) in the view's order: one indexed range scan a page,
    exact when timestamps tie, and no COUNT. A cursor that does not decode is the first page."""

    page_size = 25
    max_page_size = 100
    ordering = ["id"]

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        ordering = getattr(view, "keyset_ordering", None) or self.ordering
        self.page = keyset_page(queryset, ordering, request.query_params.get("cursor"), self._size(request))
        return self.page.object_list

    def _size(self, request) -> int:
        raw = request.query_params.get("page_size", "")
        if raw.isascii() and raw.isdigit() and len(raw) < 6 and int(raw) > 0:
            return min(int(raw), self.max_page_size)
        return self.page_size

    def _link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        return replace_query_param(self.request.build_absolute_uri(), "cursor", cursor)

    def get_paginated_response(self, data):
        return Response(
            {"next": self._link(self.page.next_cursor), "previous": self._link(self.page.previous_cursor), "results": data}
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "cursor", "required": False, "in": "query",
                "description": "The pagination cursor value.", "schema": {"type": "string"},
            },
            {
                "name": "page_size", "required": False, "in": "query",
                "description": f"Results per page (at most {self.max_page_size}).", "schema": {"type": "integer"},
            },
        ]
