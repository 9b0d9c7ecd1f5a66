"""Searching tickets by subject, description and public comments (TK-1).

PostgreSQL: full-text search over an expression index of `search_text` with the "simple"
configuration (no stemming: tickets arrive in five languages, and a wrong stemmer is worse than
none), so a search is a GIN index lookup. Words match as prefixes ("print" finds "printer").
SQLite, the zero-setup default: every word must appear in the text, case-insensitively.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q, QuerySet

SEARCH_CONFIG = "simple"
MAX_WORDS = 8
_WORD = re.compile(r"\w+", re.UNICODE)


def search_vector() -> SearchVector:
    """The expression the index is built on; a query must use exactly this to use the index."""
    return SearchVector("search_text", config=SEARCH_CONFIG)


def words_of(text: str) -> list[str]:
    return _WORD.findall((text or "").replace("\x00", "").lower())[:MAX_WORDS]


def search_tickets(queryset: QuerySet, text: str) -> QuerySet:
    words = words_of(text)
    if not words:
        return queryset
    if connection.vendor == "postgresql":
        query = SearchQuery(" & ".join(f"{w}:*" for w in words), config=SEARCH_CONFIG, search_type="raw")
        return queryset.alias(search=search_vector()).filter(search=query)
    condition = Q()
    for word in words:
        condition &= Q(search_text__icontains=word)
    return queryset.filter(condition)
