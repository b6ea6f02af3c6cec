"""The search uses its indexes: EXPLAIN of exactly the SQL the endpoint sends, on a seeded table.

On a few thousand rows a sequential scan, or walking the whole primary key, is the cheapest plan
for anything, so those are turned off (the statistics are real: the table is analysed) to show
which index serves each kind of search. ``bench/customer_search.py`` prints the plans PostgreSQL
chooses by itself on a million rows, and their timings.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import asyncpg
import pytest

from bench.customer_seed import COLUMNS, customer_rows
from customer_service.customers.query_params import SearchFilters
from customer_service.customers.search import FORMS, build_search_sql, tiers_of
from shared.devstack.databases import create_database, drop_database
from tests.conftest import SESSION_TAG

ROWS = 4000


@pytest.fixture(scope="module")
async def seeded(pg_server_url: str, customer_template: str) -> AsyncIterator[asyncpg.Connection]:
    """One seeded database for the module: these tests only read (and EXPLAIN)."""
    name = f"test_{SESSION_TAG}_plans"
    conn = await asyncpg.connect(await create_database(pg_server_url, name, template=customer_template))
    try:
        await conn.copy_records_to_table("customers", records=list(customer_rows(ROWS)), columns=COLUMNS)
        await conn.execute("ANALYZE customers")
        await conn.execute("ANALYZE customer_search_words")
        yield conn
    finally:
        await conn.close()
        await drop_database(pg_server_url, name)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def _plan(
    db: asyncpg.Connection, sql: str, args: list[Any], *disabled: str
) -> list[tuple[str, str | None]]:
    async with db.transaction():
        for setting in ("enable_seqscan", *disabled):
            await db.execute(f"SET LOCAL {setting} = off")
        raw = await db.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
    plan = json.loads(raw)[0]["Plan"]
    return [(node["Node Type"], node.get("Index Name")) for node in _nodes(plan)]


async def _tier_sql(db: asyncpg.Connection, q: str, tier: int, **filters: Any) -> tuple[str, list[Any]]:
    tiers = tiers_of(list(await db.fetchrow(FORMS, q) or ()))
    return build_search_sql(SearchFilters(**filters), tiers, tier, "", 21)


async def test_name_search_uses_the_primary_text_index(seeded: asyncpg.Connection) -> None:
    rows = await seeded.fetch("SELECT name, cpf FROM customers ORDER BY cpf LIMIT 1")
    plan = await _plan(seeded, *await _tier_sql(seeded, rows[0]["name"], 0), "enable_indexscan")
    assert ("Bitmap Index Scan", "customers_search_primary_idx") in plan, plan


@pytest.mark.parametrize("formatting", ["{cpf}", "{cpf_formatted}", "{phone}"])
async def test_digit_search_uses_the_primary_text_index(seeded: asyncpg.Connection, formatting: str) -> None:
    row = await seeded.fetchrow("SELECT cpf, phone_number FROM customers ORDER BY cpf OFFSET 7 LIMIT 1")
    assert row is not None
    cpf, phone = row["cpf"], row["phone_number"]
    q = formatting.format(
        cpf=cpf,
        cpf_formatted=f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}",
        phone=f"({phone[3:5]}) {phone[5:]}",
    )
    plan = await _plan(seeded, *await _tier_sql(seeded, q, 0), "enable_indexscan")
    assert ("Bitmap Index Scan", "customers_search_primary_idx") in plan, plan
    sql, args = await _tier_sql(seeded, q, 0)
    found = await seeded.fetch(sql, *args)
    assert [r["cpf"] for r in found] == [cpf]


async def test_word_outside_identifying_attributes_uses_the_document_index(
    seeded: asyncpg.Connection,
) -> None:
    plan = await _plan(seeded, *await _tier_sql(seeded, "fundos", 1), "enable_indexscan")
    assert ("Bitmap Index Scan", "customers_search_document_idx") in plan, plan


@pytest.mark.parametrize(("q", "tier"), [("são paulo", 1), ("silva", 0), ("engenheiro", 3), ("fernada", 4)])
async def test_broad_searches_have_index_plans(seeded: asyncpg.Connection, q: str, tier: int) -> None:
    plan = await _plan(seeded, *await _tier_sql(seeded, q, tier))
    assert not any(node == "Seq Scan" for node, _ in plan), plan
    assert any(index is not None for _, index in plan), plan


async def test_typo_lookup_uses_the_trigram_index(seeded: asyncpg.Connection) -> None:
    sql = "SELECT word FROM customer_search_words WHERE word % $1 OR word LIKE '%' || $1 || '%'"
    plan = await _plan(seeded, sql, ["fernada"], "enable_indexscan", "enable_indexonlyscan")
    assert ("Bitmap Index Scan", "customer_search_words_trgm_idx") in plan, plan


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"city": "Recife"}, "customers_city_idx"),
        ({"profession": "Dentista"}, "customers_profession_idx"),
        ({"born_from": date(2005, 1, 1)}, "customers_birthdate_idx"),
    ],
)
async def test_filters_have_index_plans(
    seeded: asyncpg.Connection, filters: dict[str, Any], index: str
) -> None:
    sql, args = build_search_sql(SearchFilters(**filters), [], 0, "", 21)
    # Without plain index scans only bitmap scans remain: they show the filter's own index.
    plan = await _plan(seeded, sql, args, "enable_indexscan")
    assert ("Bitmap Index Scan", index) in plan, plan
