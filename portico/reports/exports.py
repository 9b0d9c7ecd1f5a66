"""The registry of CSV export kinds (CSV-1): what a page can export and how its rows are read.

A kind is declared once, next to the page it belongs to (the catalog modules imported by the
app's ready()), and the export machinery (services, job, views) only ever talks to this interface:
it validates a request's filters into JSON-able params with `params`, expects `count` rows,
streams `rows` into the file and names it with `filename`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.http import QueryDict

if TYPE_CHECKING:
    from django.utils.functional import Promise

    from portico.identity.models import Membership


@dataclass(frozen=True)
class ExportKind:
    key: str  # "organizations", "accounts", "dashboard.coverage", ...
    title: str | Promise  # lazy-translated, shown on the confirmation page and in the email
    columns: Callable[[], list[str]]  # translated header row
    # The request's filters validated into JSON-able params; raises django ValidationError on bad input.
    params: Callable[[Membership, QueryDict], dict]
    count: Callable[[Membership, dict], int]  # how many rows to expect (for progress)
    rows: Callable[[Membership, dict], Iterable[Sequence[object]]]  # every row, streamed, policy-restricted
    filename: Callable[[Membership, dict, datetime], str]  # without ".csv"
    # The filters in words, (label, value) pairs for the confirmation page; without it the params are shown.
    describe: Callable[[Membership, dict], list[tuple[str, str]]] | None = None


_KINDS: dict[str, ExportKind] = {}


def register_export(kind: ExportKind) -> ExportKind:
    """Make `kind` exportable under its key; a key registered twice is a programming error."""
    if kind.key in _KINDS and _KINDS[kind.key] is not kind:
        raise ValueError(f"export kind {kind.key!r} is registered twice")
    _KINDS[kind.key] = kind
    return kind


def export_kind(key: str) -> ExportKind | None:
    """The kind registered under `key`, or None for a key nobody registered."""
    return _KINDS.get(key)
