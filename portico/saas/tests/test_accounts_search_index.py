"""The accounts page's search on PostgreSQL (ACC-1): migration 0002's trigram indexes hold the very
expression Django's `icontains` compiles to, so a partial search can read them instead of every
account. Skipped on SQLite, which has no such index."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Q

from portico import seed
from portico.saas.filters import accounts_for
from portico.saas.models import Account

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes exist on PostgreSQL only"),
]


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_acc1_partial_search_can_read_the_trigram_indexes(owner, org_a, org_b):
    for n in range(300):
        seed.account(org_a if n % 2 else org_b, f"person{n}@contoso.test", external_id=f"3f2a-{n:05d}-e9")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE saas_account")
        # Only the question "can the index answer this?", not whether it pays on 300 rows.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    rows = accounts_for(owner, {"q": "son12"})
    sql = str(rows.query)
    assert 'UPPER("saas_account"."address"::text) LIKE UPPER(' in sql
    assert 'UPPER("saas_account"."external_id"::text) LIKE UPPER(' in sql
    assert {a.address for a in rows} == {f"person{n}@contoso.test" for n in (12, *range(120, 130))}
    # The page's condition without the partner's own index beside it: only the trigram indexes can answer.
    search = Account.objects.filter(Q(address__icontains="son12") | Q(external_id__icontains="-0012"))
    plan = _plan(search)
    assert "Bitmap Index Scan on account_address_trgm" in plan, plan
    assert "Bitmap Index Scan on account_external_id_trgm" in plan, plan
