"""Pages of a list without counting it: one query of a page and one row more.

Counting every row a technician may see costs more than showing the page once lists reach
tens of thousands of rows, so large lists show Previous / Next and the page number only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

MAX_PAGE = 10_000


@dataclass
class Page:
    object_list: list
    number: int
    has_next: bool
    paginator: None = field(default=None)  # templates test `page.paginator` for a total; there is none

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1


def page_of(queryset: QuerySet, number, size: int) -> Page:
    try:
        number = min(max(int(number), 1), MAX_PAGE)
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * size
    rows = list(queryset[start : start + size + 1])
    return Page(rows[:size], number, len(rows) > size)
