"""Searching tickets by subject, description and public comments (TK-1).

PostgreSQL: full-text search over `search_vector`, a column PostgreSQL generates and stores from
`search_text` (migration 0006), with a GIN index. The "simple" configuration: no stemming, since
tickets arrive in five languages and a wrong stemmer is worse than none. Its parser keeps
"PC-04217" as `pc` and `-04217` (a signed number) and an e-mail address, a path or a version as
one word, so "04217", "firma" or "syslog" would never be found; the stored text therefore has
its ASCII punctuation read as spaces, and every run of letters and digits is a word of its own.
A search term (what is typed between spaces) is read the same way and parsed by PostgreSQL
itself (`to_tsquery`), so its words are the stored words: its words must follow each other
("PC-04217" is `'pc' <-> '04217':*`, "2.4.1" `'2' <-> '4' <-> '1':*`), and only its last word
is a prefix ("print" finds "printer"; a word followed by punctuation was typed whole). Limits of
the parser: PostgreSQL counts positions up to 16,383 words, so a term of several words is not
found past that in a very long thread; a Japanese sentence without spaces or punctuation is one
word, found by its beginning only.

A word PostgreSQL has no statistics for (an error code, a serial number) is taken to be in 0.5 %
of tickets, and the planner walks the person's list in order checking each ticket to fill a page
with tickets that do not exist. So the index is asked first, outside the person's scope (within
the list's partner when the list says which), for at most FEW + 1 tickets holding the words; when
there are no more than FEW, the list is those of them in scope (an id lookup and a sort of at
most FEW rows), otherwise the words are common enough for the walk to fill a page soon.

SQLite, the zero-setup default: every word must appear in the text, case-insensitively.
"""

from __future__ import annotations

import re
import string

from django.contrib.postgres.search import SearchQuery, SearchVectorExact, SearchVectorField
from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.expressions import Col, Expression
from django.db.models.lookups import Exact
from django.db.models.sql.where import AND, WhereNode

from portico.tickets.models import Ticket

SEARCH_CONFIG = "simple"
MAX_WORDS = 8
FEW = 500
# Read as spaces in the stored text too: migration 0006 has its own copy of this set.
PUNCTUATION = string.punctuation
_AS_SPACES = str.maketrans(PUNCTUATION, " " * len(PUNCTUATION))
_WORD = re.compile(r"\w+", re.UNICODE)


_COLUMN = SearchVectorField()
_COLUMN.set_attributes_from_name("search_vector")


class StoredVector(Expression):
    """The ticket's `search_vector` column, which the model does not declare (SQLite has none, and
    Django must never write it), resolved to whatever alias the ticket table has in the query."""

    output_field = _COLUMN

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        return Col(query.get_initial_alias(), _COLUMN)


def words_of(text: str) -> list[str]:
    return _WORD.findall((text or "").replace("\x00", "").lower())[:MAX_WORDS]


def terms_of(text: str) -> list[list[str]]:
    """The words of each term typed between spaces, its punctuation read as spaces as in the stored
    text: "PC-04217 offline" is [["PC", "04217"], ["offline"]]."""
    terms: list[list[str]] = []
    left = MAX_WORDS
    for term in (text or "").replace("\x00", "").split():
        words = _WORD.findall(term.translate(_AS_SPACES))[:left]
        if words:
            terms.append(words)
            left -= len(words)
        if not left:
            break
    return terms


def tsquery_of(terms: list[list[str]]) -> str:
    """`to_tsquery` input: the words of a term one after the other, the last a prefix; all terms.
    A word holds no punctuation, so it needs no quoting beyond its quotes."""
    return " & ".join(" <-> ".join([*(f"'{w}'" for w in words[:-1]), f"'{words[-1]}':*"]) for words in terms)


def partner_of(queryset: QuerySet) -> int | None:
    """The partner every ticket of `queryset` belongs to, when its filter says so plainly (a scope
    from policy.restrict always does); None when it does not, and the index is asked for all."""
    partner = Ticket._meta.get_field("partner")
    nodes: list = [queryset.query.where]
    while nodes:
        node = nodes.pop()
        if isinstance(node, WhereNode):
            if node.connector == AND and not node.negated:
                nodes.extend(node.children)
        elif (
            isinstance(node, Exact)
            and isinstance(node.lhs, Col)
            and node.lhs.alias == queryset.query.base_table
            and node.lhs.target == partner
            and isinstance(node.rhs, int)
        ):
            return node.rhs
    return None


def search_tickets(queryset: QuerySet, text: str) -> QuerySet:
    """`queryset` (already the person's scope, filters and order) narrowed to tickets holding the words."""
    if connections[queryset.db].vendor != "postgresql":
        words = words_of(text)
        condition = Q()
        for word in words:
            condition &= Q(search_text__icontains=word)
        return queryset.filter(condition) if words else queryset
    terms = terms_of(text)
    if not terms:
        return queryset
    query = SearchQuery(tsquery_of(terms), config=SEARCH_CONFIG, search_type="raw")
    matches = SearchVectorExact(StoredVector(), query)
    index = Ticket.objects.using(queryset.db).filter(matches)
    partner = partner_of(queryset)
    if partner is not None:
        index = index.filter(partner_id=partner)
    few = list(index.order_by().values_list("pk", flat=True)[: FEW + 1])
    if len(few) <= FEW:
        return queryset.filter(pk__in=few)
    return queryset.filter(matches)
