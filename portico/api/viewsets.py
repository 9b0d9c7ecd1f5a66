"""What every resource of the API shares: the membership a call runs as, the policy's queryset,
and stable cursor pagination."""

from __future__ import annotations

from django.db import models
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination

from portico.access import policy
from portico.access.policy import Action


class ById(CursorPagination):
    """Cursor pagination in id order: stable under inserts, one indexed range scan per page."""

    ordering = "id"
    page_size_query_param = "page_size"
    max_page_size = 200


class PolicyViewSetMixin:
    """List and retrieve only what the policy lets the membership view; anything else is a 404.

    Subclasses set `base_queryset`; changes go through services, which check the policy again.
    """

    base_queryset: models.QuerySet
    pagination_class = ById
    lookup_value_regex = r"[0-9]+"

    @property
    def membership(self):
        return self.request._request.membership  # type: ignore[attr-defined]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        # The database cannot compare text holding NUL characters; say so instead of failing.
        bad = {name: [_("Null characters are not allowed.")] for name, values in request.query_params.lists() if any("\x00" in v for v in values)}
        if bad:
            raise ValidationError(bad)

    def get_queryset(self):
        return policy.restrict(self.base_queryset.all(), self.membership, Action.VIEW)

    def get_object(self):
        obj = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, obj)  # type: ignore[attr-defined]
        return obj


def caller(serializer_context: dict):
    """The membership a serializer works for; None while the OpenAPI schema is generated."""
    request = serializer_context.get("request")
    return getattr(getattr(request, "_request", None), "membership", None)


MAX_ID = 2**63 - 1


def id_param(params, name: str) -> int | None:
    """An id from the query string: None when absent, a field error when it cannot be an id."""
    value = params.get(name, "")
    if value == "":
        return None
    if not value.isascii() or not value.isdigit() or int(value) > MAX_ID:
        raise ValidationError({name: [_("Enter a valid id.")]})
    return int(value)
