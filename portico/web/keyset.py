"""Keyset pages: "the 25 rows after this one" in the list's order, as one indexed range scan.

An offset makes the database walk every row before the page, so a deep page of a million-row list
costs as much as reading it all; a keyset cursor names the last row seen and starts right after
it. Every ordering ends with the primary key, so the cursor is exact even when values repeat.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models import F, Field, Func, Model, Q, QuerySet, Value
from django.db.models.lookups import GreaterThan, LessThan
from django.utils.dateparse import parse_datetime


@dataclass
class KeysetPage:
    object_list: list
    next_cursor: str | None
    previous_cursor: str | None

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.previous_cursor)


def _encode(values: list[Any], direction: str) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps({"d": direction, "v": plain}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, fields: list[str], queryset: QuerySet) -> tuple[str, list[Any]] | None:
    """The cursor's direction and values, or None for anything that is not a cursor of this ordering."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        direction, values = data["d"], data["v"]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        return None
    if direction not in ("next", "prev") or not isinstance(values, list) or len(values) != len(fields):
        return None
    decoded = []
    ops = connections[queryset.db].ops
    for name, value in zip(fields, values, strict=True):
        internal = _field(queryset.model, name).get_internal_type()
        if internal == "DateTimeField":
            value = parse_datetime(value) if isinstance(value, str) else None
            if value is None:
                return None
        elif internal in ops.integer_field_ranges:
            # A number the column cannot hold is no cursor of ours, and would be an error in the row comparison.
            low, high = ops.integer_field_range(internal)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                return None
        elif not isinstance(value, str):
            return None
        decoded.append(value)
    return direction, decoded


def _field(model: type[Model], name: str) -> Field:
    """The column an ordering entry such as "-updated_at" sorts by."""
    field = model._meta.get_field(name.lstrip("-").removesuffix("_id"))
    assert isinstance(field, Field)
    return field


class _Row(Func):
    """A row value, "(a, b, c)": PostgreSQL and SQLite (3.15 and later) compare two of them column
    by column, and PostgreSQL starts an index range at such a comparison, never at an OR."""

    function = ""
    output_field = Field()


def _after(model: type[Model], fields: list[str], values: list[Any], reverse: bool) -> Q:
    """Rows of `model` strictly after `values` in the order `fields` (or before, when `reverse`)."""
    directions = {f.startswith("-") != reverse for f in fields}
    if len(directions) == 1:
        # Every column runs the same way: "(updated_at, id) < (%s, %s)". Ordering columns are never
        # NULL, and a NULL would drop the row from the OR form below just the same.
        compare = LessThan if directions == {True} else GreaterThan
        columns = _Row(*(F(f.lstrip("-")) for f in fields))
        # Each value typed as its column, so it is adapted as in a filter (an aware datetime on PostgreSQL).
        cursor = _Row(*(Value(v, output_field=_field(model, f)) for f, v in zip(fields, values, strict=True)))
        return Q(compare(columns, cursor))
    condition = Q()
    for i in range(len(fields) - 1, -1, -1):
        name = fields[i].lstrip("-")
        descending = fields[i].startswith("-") != reverse
        step = Q(**{f"{name}__lt" if descending else f"{name}__gt": values[i]})
        condition = step if i == len(fields) - 1 else step | (Q(**{name: values[i]}) & condition)
    return condition


def _rows_after(queryset: QuerySet, ordering: list[str], values: list[Any], reverse: bool, limit: int) -> list:
    """Up to `limit` rows strictly after `values` in `ordering` (before, and in reverse order, when
    `reverse`).

    An ordering led by a column of a few values (one with choices: priority) is read as two index
    ranges: the rest of the cursor's value, then the values after it. PostgreSQL estimates a row
    comparison by its first column alone, so at the last priority it expects no rows and sorts
    the whole list instead of walking the index (half a second deep in a 35,000-ticket queue);
    the second query runs only when the first one does not fill the page.
    """
    model = queryset.model
    order = [f[1:] if f.startswith("-") else f"-{f}" for f in ordering] if reverse else ordering
    first = ordering[0].lstrip("-")
    if len(ordering) > 2 and _field(model, first).choices and len({f.startswith("-") for f in ordering}) == 1:
        same = queryset.filter(**{first: values[0]}).filter(_after(model, ordering[1:], values[1:], reverse))
        rows = list(same.order_by(*order)[:limit])
        if len(rows) < limit:
            lookup = "lt" if ordering[0].startswith("-") != reverse else "gt"
            rows += list(queryset.filter(**{f"{first}__{lookup}": values[0]}).order_by(*order)[: limit - len(rows)])
        return rows
    return list(queryset.filter(_after(model, ordering, values, reverse)).order_by(*order)[:limit])


def keyset_page(queryset: QuerySet, ordering: list[str], cursor: str | None, size: int) -> KeysetPage:
    """One page of `queryset` in `ordering` (which must end with "-id" or "id") after `cursor`.

    A cursor that does not decode is the first page: a stale or edited link is never an error.
    """
    assert ordering[-1].lstrip("-") in ("id", "pk")
    state = _decode(cursor, ordering, queryset) if cursor else None
    if state is None:
        rows = list(queryset.order_by(*ordering)[: size + 1])
        return KeysetPage(rows[:size], _cursor_of(rows[size - 1], ordering, "next") if len(rows) > size else None, None)
    direction, values = state
    if direction == "next":
        rows = _rows_after(queryset, ordering, values, False, size + 1)
        page = rows[:size]
        next_cursor = _cursor_of(page[-1], ordering, "next") if len(rows) > size else None
        return KeysetPage(page, next_cursor, _cursor_of(page[0], ordering, "prev") if page else None)
    rows = _rows_after(queryset, ordering, values, True, size + 1)
    page = list(reversed(rows[:size]))
    previous_cursor = _cursor_of(page[0], ordering, "prev") if len(rows) > size else None
    return KeysetPage(page, _cursor_of(page[-1], ordering, "next") if page else None, previous_cursor)


def _cursor_of(row: Any, ordering: list[str], direction: str) -> str:
    return _encode([getattr(row, f.lstrip("-")) for f in ordering], direction)
