"""The search uses its indexes: EXPLAIN of exactly the SQL the endpoint sends, on a seeded table.

The service reads a tier of few hits through the text index with sequential and plain index
scans turned off for that statement (``BITMAP_ONLY``), so these tests EXPLAIN under the same
settings: the plan must be the right text index. A tier of many hits is walked along the primary
key. The estimates that choose between the two come from real statistics (the table is
analysed). ``bench/customer_search.py`` gives plans and timings on a million rows.
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
from customer_service.customers.search_sql import (
    BITMAP_ONLY,
    ESTIMATES,
    Tier,
    bitmap_sql,
    tiers_of,
    walk_sql,
)
from devstack.databases import create_database, drop_database
from tests.conftest import SESSION_TAG

ROWS = 4000
NO_FILTERS = SearchFilters()


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
    db: asyncpg.Connection, sql: str, args: list[Any], settings: str = ""
) -> list[tuple[str, Any]]:
    async with db.transaction():
        if settings:
            await db.execute(settings)
        raw = await db.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
    return [(node["Node Type"], node.get("Index Name")) for node in _nodes(json.loads(raw)[0]["Plan"])]


async def _tiers(db: asyncpg.Connection, q: str) -> list[Tier]:
    return tiers_of(await db.fetchrow(ESTIMATES, q))


async def test_name_search_uses_the_primary_text_index(seeded: asyncpg.Connection) -> None:
    name = await seeded.fetchval("SELECT name FROM customers ORDER BY cpf LIMIT 1")
    tiers = await _tiers(seeded, name)
    assert tiers[0].column == "search_primary"
    plan = await _plan(seeded, *bitmap_sql(NO_FILTERS, tiers, 0, "", 21), BITMAP_ONLY)
    assert ("Bitmap Index Scan", "customers_search_primary_idx") in plan, plan


@pytest.mark.parametrize("formatting", ["{cpf}", "{cpf_formatted}", "{phone}"])
async def test_digit_search_finds_its_customer_through_the_index(
    seeded: asyncpg.Connection, formatting: str
) -> None:
    row = await seeded.fetchrow("SELECT cpf, phone_number FROM customers ORDER BY cpf OFFSET 7 LIMIT 1")
    assert row is not None
    cpf, phone = row["cpf"], row["phone_number"]
    q = formatting.format(
        cpf=cpf,
        cpf_formatted=f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}",
        phone=f"({phone[3:5]}) {phone[5:]}",
    )
    tiers = await _tiers(seeded, q)
    assert tiers[0].estimate < 100  # a handful: read through the index, never walked
    sql, args = bitmap_sql(NO_FILTERS, tiers, 0, "", 21)
    assert ("Bitmap Index Scan", "customers_search_primary_idx") in await _plan(
        seeded, sql, args, BITMAP_ONLY
    )
    async with seeded.transaction():
        await seeded.execute(BITMAP_ONLY)
        found = await seeded.fetch(sql, *args)
    assert [r["cpf"] for r in found] == [cpf]


async def test_word_outside_identifying_attributes_uses_the_document_index(
    seeded: asyncpg.Connection,
) -> None:
    tiers = await _tiers(seeded, "fundos")
    assert [tier.column for tier in tiers[:2]] == ["search_primary", "search_document"]
    plan = await _plan(seeded, *bitmap_sql(NO_FILTERS, tiers, 1, "", 21), BITMAP_ONLY)
    assert ("Bitmap Index Scan", "customers_search_document_idx") in plan, plan


async def test_common_words_are_estimated_common(seeded: asyncpg.Connection) -> None:
    """What makes the service walk rather than fetch every hit: the estimate sees the frequency."""
    common, rare = await _tiers(seeded, "brasil"), await _tiers(seeded, "xanadu")  # every row's country
    assert common[1].estimate > ROWS / 2
    assert rare[1].estimate < ROWS / 100


async def test_walk_reads_the_primary_key_and_stops(seeded: asyncpg.Connection) -> None:
    tiers = await _tiers(seeded, "são paulo")
    plan = await _plan(seeded, *walk_sql(NO_FILTERS, tiers, 1, "", 21))
    assert ("Index Scan", "customers_pkey") in plan, plan
    assert not any(node in ("Seq Scan", "Sort") for node, _ in plan), plan


async def test_typo_lookup_uses_the_trigram_index(seeded: asyncpg.Connection) -> None:
    sql = "SELECT word FROM customer_search_words WHERE word % $1 OR word LIKE '%' || $1 || '%'"
    plan = await _plan(seeded, sql, ["fernada"], BITMAP_ONLY + "; SET LOCAL enable_indexonlyscan = off")
    assert ("Bitmap Index Scan", "customer_search_words_trgm_idx") in plan, plan


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"city": "Recife"}, "customers_city_idx"),
        ({"profession": "Dentista"}, "customers_profession_idx"),
        ({"born_from": date(2005, 1, 1)}, "customers_birthdate_idx"),
        ({"min_salary": 100_000}, "customers_salary_idx"),
    ],
)
async def test_filters_have_their_indexes(
    seeded: asyncpg.Connection, filters: dict[str, Any], index: str
) -> None:
    plan = await _plan(seeded, *bitmap_sql(SearchFilters(**filters), [], 0, "", 21), BITMAP_ONLY)
    assert ("Bitmap Index Scan", index) in plan, plan
