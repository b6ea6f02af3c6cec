"""The SQL of the search endpoint, assembled from constant fragments; every value is a ``$n``.

One tier's page is read one of two ways (``search.py`` chooses):

- ``walk``: the primary key in CPF order, a budget of rows at most, keeping those that match.
  Right for a tier with many hits: it stops as soon as the page is full.
- ``bitmap``: the text index finds every hit, which are then sorted by CPF. Right for a tier
  with few hits. Sent with sequential and plain index scans turned off for the statement, so a
  misestimate can never turn it into a walk of the whole table.
"""

from __future__ import annotations

from typing import Any

import msgspec

from customer_service.customers.query_params import SearchFilters
from customer_service.customers.repository import COLUMNS

__all__ = [
    "BITMAP_ONLY",
    "CUSTOM_PLANS",
    "ESTIMATES",
    "PLANNER_DEFAULTS",
    "TIERS",
    "WALK_END",
    "WALK_ROWS",
    "Tier",
    "bitmap_sql",
    "tiers_of",
    "walk_sql",
]

WALK_ROWS = 4000
"""Rows a first walk reads at most (a few milliseconds)."""

# Tiers, best first: (column, tsquery form). Forms: 0 exact words, 1 prefixes, 2 widened.
TIERS = (("search_primary", 0), ("search_document", 0), ("search_primary", 1), ("search_document", 1),
         ("search_document", 2))  # fmt: skip

_ESTIMATE_COLUMNS = ", ".join(f"customer_search_estimate('{column}', q{form})" for column, form in TIERS)
_FORMS = (
    "customer_search_query($1, false, false) AS q0, customer_search_query($1, true, false) AS q1,"
    " customer_search_query($1, true, true) AS q2"
)
_SELECT = f"SELECT q0::text, q1::text, q2::text, {_ESTIMATE_COLUMNS} FROM f"  # noqa: S608
ESTIMATES = f"WITH f AS MATERIALIZED (SELECT {_FORMS}) {_SELECT}"
"""The three tsquery forms of ``q`` and the planner's estimate of each tier's hits."""

WALK_END = "SELECT cpf FROM customers WHERE cpf > $1 ORDER BY cpf OFFSET $2 LIMIT 1"
"""The last CPF a walk of ``$2 + 1`` rows after ``$1`` read; none when the table ended first."""

CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"
"""A search's statements are prepared (and reused) with the tsquery as a parameter; after five
runs PostgreSQL may switch to a generic plan that cannot see it (measured: 4 ms became 200 ms)."""

BITMAP_ONLY = "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off"
PLANNER_DEFAULTS = "SET LOCAL enable_seqscan = DEFAULT; SET LOCAL enable_indexscan = DEFAULT"

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


class Tier(msgspec.Struct, frozen=True):
    rank: int
    """Position in ``TIERS``: what a cursor records, stable even when empty tiers are dropped."""
    column: str
    query: str
    estimate: float


def tiers_of(row: Any) -> list[Tier]:
    """The tiers of an ``ESTIMATES`` row, dropping empty and repeated ones (a repeat is empty)."""
    tiers: list[Tier] = []
    seen: set[tuple[str, str]] = set()
    for index, (column, form) in enumerate(TIERS):
        query = row[form]
        if query and (column, query) not in seen:
            seen.add((column, query))
            tiers.append(Tier(index, column, query, float(row[3 + index] or 0.0)))
    return tiers


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

    def match(self, tiers: list[Tier], tier: int, filters: SearchFilters) -> str:
        """Hits of ``tier`` that no better tier has, within the filters."""
        if tiers:
            sql_column = tiers[tier].column
            self.where(f"{sql_column} @@ {{}}::tsquery", tiers[tier].query)
            for better in tiers[:tier]:
                self.where(f"NOT {better.column} @@ {{}}::tsquery", better.query)
        for name, template in _FILTERS.items():
            value = getattr(filters, name)
            if value is not None:
                self.where(template, value)
        return " AND ".join(self.conditions) or "true"


def walk_sql(
    filters: SearchFilters, tiers: list[Tier], tier: int, after_cpf: str, limit: int, budget: int = WALK_ROWS
) -> tuple[str, list[Any]]:
    sql = _Sql()
    after, rows = sql.bind(after_cpf), sql.bind(budget)
    where = sql.match(tiers, tier, filters)
    text = (
        f"SELECT {COLUMNS} FROM (SELECT * FROM customers WHERE cpf > {after} ORDER BY cpf LIMIT {rows})"  # noqa: S608
        f" AS walk WHERE {where} ORDER BY cpf LIMIT {sql.bind(limit)}"
    )
    return text, sql.args


def bitmap_sql(
    filters: SearchFilters, tiers: list[Tier], tier: int, after_cpf: str, limit: int
) -> tuple[str, list[Any]]:
    """Also the filters-only search (no tiers), where the planner chooses freely."""
    sql = _Sql()
    sql.where("cpf > {}", after_cpf)
    where = sql.match(tiers, tier, filters)
    text = f"SELECT {COLUMNS} FROM customers WHERE {where} ORDER BY cpf LIMIT {sql.bind(limit)}"  # noqa: S608
    return text, sql.args
