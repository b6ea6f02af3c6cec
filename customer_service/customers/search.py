"""Search over every attribute: PostgreSQL full text, widened by trigram word matching, ranked.

The text query becomes ``tsquery`` forms built by ``customer_search_query`` (migration 0002) with
the folding the stored ``search_document`` and ``search_primary`` got (lower case, ``unaccent``,
punctuation as spaces), so ``sao paulo`` finds São Paulo; words match as prefixes (``joã`` finds
João), typos and inner parts through the ``pg_trgm`` index of known words, and digits-only
queries match CPF, phone and zipcode in any formatting.

Ranking is by relevance tier, then CPF. A hit belongs to the first tier whose query it matches:

1. every word exactly, in the name, e-mail, CPF or phone;
2. every word exactly, anywhere;
3. every word as a prefix, in the name, e-mail, CPF or phone;
4. every word as a prefix, anywhere;
5. every word as a prefix, a similar known word (typo) or a word containing it.

Tiers rather than a ``ts_rank`` score: a score must be computed for every hit before the first
page can be sent, and a common word hits tens of thousands of rows (300-700 ms over a million
customers, see ``bench/customer_search.py``), whereas a tier is one query ``ORDER BY cpf LIMIT n``
that PostgreSQL answers either from a text index (few hits) or by walking the primary key and
stopping after one page (many hits): milliseconds either way. Each tier's condition is one plain
``column @@ tsquery`` (sent as a parameter, so the planner sees the real words and their
statistics) minus the better tiers; the "identifying attributes" tiers use their own column and
index rather than tsvector weights, on which the planner has no statistics. The one costly moment
is moving from a tier of many thousands of hits to the next, deep in the pages.

Pages are keyset over (tier, cpf), so they stay correct however deep, and stable while others
write. Without ``q`` results are in CPF order, like the list.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from customer_service.customers.errors import InvalidRequest, SearchTooBroad
from customer_service.customers.pagination import Position, fingerprint
from customer_service.customers.query_params import SearchFilters, SearchParams
from customer_service.customers.repository import COLUMNS, record_to_stored
from customer_service.customers.schemas import FieldError, StoredCustomer
from customer_service.customers.service import Page
from shared.db.pool import PostgresPool

__all__ = ["FORMS", "CustomerSearch", "build_search_sql", "tiers_of"]

# The three tsquery forms of a text query: exact words, prefixes, and widened.
FORMS = (
    "SELECT customer_search_query($1, false, false)::text, customer_search_query($1, true, false)::text,"
    " customer_search_query($1, true, true)::text"
)
# Tiers, best first: (column, form index into FORMS).
TIERS = (("search_primary", 0), ("search_document", 0), ("search_primary", 1), ("search_document", 1),
         ("search_document", 2))  # fmt: skip

_FILTERS = {
    "city": "customer_fold(city) = customer_fold({})",
    "state": "customer_fold(state) = customer_fold({})",
    "country": "customer_fold(country) = customer_fold({})",
    "profession": "customer_fold(profession) = customer_fold({})",
    "min_salary": "salary >= {}",
    "max_salary": "salary <= {}",
    "born_from": "birthdate >= {}",
    "born_to": "birthdate <= {}",
    "created_from": "created_at >= {}",
    "created_before": "created_at < {}",
}


class _Sql:
    __slots__ = ("args", "conditions")

    def __init__(self) -> None:
        self.args: list[Any] = []
        self.conditions: list[str] = []

    def bind(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def where(self, template: str, *values: Any) -> None:
        self.conditions.append(template.format(*(self.bind(v) for v in values)))


def build_search_sql(
    filters: SearchFilters, tiers: list[tuple[str, str]], tier: int, after_cpf: str, limit: int
) -> tuple[str, list[Any]]:
    """One tier's page (or, with no tiers, the filtered CPF order): the statement and its arguments.

    Kept apart from running it, so tests can EXPLAIN exactly what the endpoint sends.
    """
    sql = _Sql()
    if tiers:
        column, query = tiers[tier]
        sql.where(f"{column} @@ {{}}::tsquery", query)
        for column, query in tiers[:tier]:
            sql.where(f"NOT {column} @@ {{}}::tsquery", query)
    for name, template in _FILTERS.items():
        value = getattr(filters, name)
        if value is not None:
            sql.where(template, value)
    if after_cpf:
        sql.where("cpf > {}", after_cpf)
    where = " AND ".join(sql.conditions) or "true"
    limit_param = sql.bind(limit)
    text = f"SELECT {COLUMNS} FROM customers WHERE {where} ORDER BY cpf LIMIT {limit_param}"  # noqa: S608
    return text, sql.args


def tiers_of(forms: list[str | None]) -> list[tuple[str, str]]:
    """(column, tsquery) per tier, dropping repeats (a repeat could only be an empty tier)."""
    tiers: list[tuple[str, str]] = []
    for column, form in TIERS:
        query = forms[form]
        if query and (column, query) not in tiers:
            tiers.append((column, query))
    return tiers


class CustomerSearch:
    __slots__ = ("_pool", "_timeout")

    def __init__(self, pool: PostgresPool, *, timeout: float = 3.0) -> None:
        self._pool = pool
        self._timeout = timeout

    async def tiers(self, q: str) -> list[tuple[str, str]]:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(FORMS, q)
        return tiers_of(list(row or (None, None, None)))

    async def search(self, params: SearchParams) -> Page:
        signature = fingerprint(params.q, params.filters)
        after = params.paging.after
        if after is not None and after.search != signature:
            if after.search is not None:
                raise InvalidRequest([FieldError("cursor", "Belongs to another search.", "query")])
            if params.q is not None:  # lastCpf or a list cursor: no tier to continue from
                raise InvalidRequest(
                    [FieldError("cursor", "Ranked results continue only with cursor.", "query")]
                )
        tiers = await self.tiers(params.q) if params.q is not None else []
        if params.q is not None and not tiers:
            return Page([], None)
        tier = after.tier or 0 if after is not None else 0
        after_cpf = after.cpf if after is not None else ""
        if tier >= max(len(tiers), 1):
            raise InvalidRequest([FieldError("cursor", "Is not a cursor this API gave out.", "query")])
        wanted = params.paging.limit + 1
        found: list[tuple[int, StoredCustomer]] = []
        async with self._pool.acquire() as conn:
            while True:
                text, args = build_search_sql(params.filters, tiers, tier, after_cpf, wanted - len(found))
                found.extend((tier, record_to_stored(r)) for r in await self._fetch(conn, text, args))
                tier, after_cpf = tier + 1, ""
                if len(found) >= wanted or tier >= len(tiers):
                    break
        items = [stored for _, stored in found[: params.paging.limit]]
        if len(found) < wanted:
            return Page(items, None)
        last_tier, last = found[params.paging.limit - 1]
        return Page(items, Position(last.customer.cpf, last_tier, signature))

    async def _fetch(self, conn: asyncpg.Connection, text: str, args: list[Any]) -> list[asyncpg.Record]:
        try:
            return await conn.fetch(text, *args, timeout=self._timeout)
        except TimeoutError:
            raise SearchTooBroad() from None
