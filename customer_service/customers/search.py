"""Search over every attribute: PostgreSQL full text, widened by trigram word matching, ranked.

The text query is turned into a ``tsquery`` by ``customer_search_query`` (migration 0002), the
same folding (lower case, ``unaccent``, punctuation as spaces) the stored ``search_document`` got,
so ``sao paulo`` finds São Paulo and ``joã`` finds João; each word is a prefix, typos and inner
parts are matched through the ``pg_trgm`` index of known words, and digits-only queries match
CPF, phone and zipcode in any formatting. The ``search_document`` GIN index finds the hits, which
are ranked by ``ts_rank`` (name, e-mail, CPF and phone weigh most), strict hits before those only
the widened query finds, then by CPF. Pages are keyset over (rank, cpf), so they stay correct
however deep; without ``q`` results are in CPF order, like the list.

The tsquery is computed in a first round trip and bound as a parameter, so the planner sees the
real query (and the lexeme statistics) when it chooses between the text index and the filters'.
"""

from __future__ import annotations

from typing import Any

from customer_service.customers.errors import InvalidRequest, SearchTooBroad
from customer_service.customers.pagination import Position, fingerprint
from customer_service.customers.query_params import SearchFilters, SearchParams
from customer_service.customers.repository import COLUMNS, record_to_stored
from customer_service.customers.schemas import FieldError
from customer_service.customers.service import Page
from shared.db.pool import PostgresPool

__all__ = ["CustomerSearch", "build_search_sql"]

TSQUERIES = "SELECT customer_search_query($1, true)::text, customer_search_query($1, false)::text"

# $1 widened tsquery, $2 strict tsquery; rank is computed as real so a cursor can repeat it exactly.
RANK = (
    "(ts_rank('{0.1, 0.2, 0.4, 1.0}', search_document, $1::tsquery)"
    " + CASE WHEN search_document @@ $2::tsquery THEN 1 ELSE 0 END)::real"
)

_TEXT_FILTERS = {
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

    def __init__(self, args: list[Any]) -> None:
        self.args = args
        self.conditions: list[str] = []

    def bind(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def where(self, template: str, *values: Any) -> None:
        self.conditions.append(template.format(*(self.bind(v) for v in values)))


def _filter(sql: _Sql, filters: SearchFilters) -> None:
    for name, template in _TEXT_FILTERS.items():
        value = getattr(filters, name)
        if value is not None:
            sql.where(template, value)


def build_search_sql(
    filters: SearchFilters, after: Position | None, limit: int, tsqueries: tuple[str, str] | None
) -> tuple[str, list[Any]]:
    """The statement and its arguments (kept separate from running it, so tests can EXPLAIN it)."""
    if tsqueries is None:
        sql = _Sql([])
        _filter(sql, filters)
        if after is not None:
            sql.where("cpf > {}", after.cpf)
        where = " AND ".join(sql.conditions) or "true"
        limit_param = sql.bind(limit)
        text = (
            f"SELECT {COLUMNS}, NULL::real AS rank FROM customers "  # noqa: S608
            f"WHERE {where} ORDER BY cpf LIMIT {limit_param}"
        )
        return text, sql.args
    sql = _Sql(list(tsqueries))
    sql.conditions.append("search_document @@ $1::tsquery")
    _filter(sql, filters)
    where = " AND ".join(sql.conditions)
    keyset = ""
    if after is not None and after.rank is not None:
        rank, cpf = sql.bind(after.rank), sql.bind(after.cpf)
        keyset = f"WHERE rank < {rank}::real OR (rank = {rank}::real AND cpf > {cpf})"
    text = (
        f"SELECT * FROM (SELECT {COLUMNS}, {RANK} AS rank FROM customers WHERE {where}) AS hits "  # noqa: S608
        f"{keyset} ORDER BY rank DESC, cpf LIMIT {sql.bind(limit)}"
    )
    return text, sql.args


class CustomerSearch:
    __slots__ = ("_pool", "_timeout")

    def __init__(self, pool: PostgresPool, *, timeout: float = 3.0) -> None:
        self._pool = pool
        self._timeout = timeout

    async def tsqueries(self, q: str) -> tuple[str, str] | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(TSQUERIES, q)
        if row is None or not row[0]:
            return None
        return (row[0], row[1])

    async def search(self, params: SearchParams) -> Page:
        limit = params.paging.limit
        signature = fingerprint(params.q, params.filters)
        after = params.paging.after
        if after is not None and after.search != signature:
            if after.search is not None:
                raise InvalidRequest([FieldError("cursor", "Belongs to another search.", "query")])
            if params.q is not None:  # lastCpf, or a list cursor: no rank to continue from
                raise InvalidRequest(
                    [FieldError("cursor", "Ranked results continue only with cursor.", "query")]
                )
        tsqueries: tuple[str, str] | None = None
        if params.q is not None:
            tsqueries = await self.tsqueries(params.q)
            if tsqueries is None:
                return Page([], None)
        text, args = build_search_sql(params.filters, after, limit + 1, tsqueries)
        async with self._pool.acquire() as conn:
            try:
                records = await conn.fetch(text, *args, timeout=self._timeout)
            except TimeoutError:
                raise SearchTooBroad() from None
        more = len(records) > limit
        records = records[:limit]
        items = [record_to_stored(record) for record in records]
        if not more:
            return Page(items, None)
        last = records[-1]
        return Page(items, Position(last["cpf"], last["rank"], signature))
