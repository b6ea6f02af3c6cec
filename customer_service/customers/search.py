"""Search over every attribute: PostgreSQL full text, widened by trigram word matching, ranked.

The text query becomes three ``tsquery`` forms (exact words, prefixes, widened) built by
``customer_search_query`` (migration 0002) with the folding the stored ``search_primary`` and
``search_document`` got (lower case, ``unaccent``, punctuation as spaces), so ``sao paulo`` finds
São Paulo; words match as prefixes (``joã`` finds João), typos and inner parts through the
``pg_trgm`` index of known words, and digits-only queries match CPF, phone and zipcode in any
formatting.

Ranking is by relevance tier, then CPF. A hit belongs to the first tier whose query it matches:

1. every word exactly, in the name, e-mail, CPF or phone;
2. every word exactly, anywhere;
3. every word as a prefix, in the name, e-mail, CPF or phone;
4. every word as a prefix, anywhere;
5. every word as a prefix, a similar known word (typo) or a word containing it.

Tiers rather than a ``ts_rank`` score: a score must be computed for every hit before the first
page can be sent, and a common word hits tens of thousands of customers (200-330 ms over a
million with 512 MB of shared buffers, 1.7 s with the default 128 MB: ``bench/customer_search.py``,
where first pages take 5-30 ms), whereas a tier in CPF order can be read until the
page is full and no further. How to read it depends on how many hits it has, which the planner
estimates from the column statistics (one round trip gives the tsqueries and every estimate):
a tier of many hits is walked along the primary key, a tier of few is read through the text
index (see ``search_sql.py``). A walk that has not filled the page goes on, with a budget sized
from the hits it met, while walking stays cheaper than the index (a walked row costs about a
fifth of a row fetched through the index, ``bench/customer_search.py``); a walk that met no hit
at all hands over to the index. The planner is not left to choose by itself: with
``ORDER BY cpf LIMIT n`` it bets on the walk, and when its estimate is high but the tier turns
out empty, that bet reads the whole table (seconds on a million rows).

Pages are keyset over (tier, cpf), so they stay correct however deep, and stable while others
write. Without ``q`` results are in CPF order, like the list, and the planner chooses the plan
(its estimates for plain columns are good).
"""

from __future__ import annotations

import math
import time
from typing import Any

import asyncpg

from customer_service.customers.errors import InvalidRequest, SearchTooBroad
from customer_service.customers.pagination import Position, fingerprint
from customer_service.customers.query_params import SearchFilters, SearchQuery
from customer_service.customers.repository import record_to_stored
from customer_service.customers.schemas import FieldError, StoredCustomer
from customer_service.customers.search_sql import (
    BITMAP_ONLY,
    CUSTOM_PLANS,
    ESTIMATES,
    PLANNER_DEFAULTS,
    WALK_END,
    WALK_ROWS,
    Tier,
    bitmap_sql,
    tiers_of,
    walk_sql,
)
from customer_service.customers.service import Page
from shared.db.pool import PostgresPool

__all__ = ["BITMAP_BELOW", "INDEX_ROW_COST", "CustomerSearch"]

BITMAP_BELOW = 8000.0
"""Tiers estimated under this many hits are read through the text index directly. Above the
planner's default guess for a word it has no statistics on (0.5 % of a million rows)."""
INDEX_ROW_COST = 5.0
"""What fetching a hit through the text index costs, in walked rows."""


class CustomerSearch:
    __slots__ = ("_pool", "_timeout")

    def __init__(self, pool: PostgresPool, *, timeout: float = 3.0) -> None:
        self._pool = pool
        self._timeout = timeout

    async def search(self, params: SearchQuery) -> Page:
        filters = params.filters
        signature = fingerprint(params.q, filters)
        after = params.after
        if after is not None and after.search != signature:
            if after.search is not None:
                raise InvalidRequest([FieldError("cursor", "Belongs to another search.", "query")])
            if params.q is not None:  # lastCpf or a list cursor: no tier to continue from
                raise InvalidRequest(
                    [FieldError("cursor", "Ranked results continue only with cursor.", "query")]
                )
        resume_rank = (after.tier or 0) if after is not None else 0
        after_cpf = after.cpf if after is not None else ""
        wanted = params.limit + 1
        deadline = time.monotonic() + self._timeout
        found: list[tuple[int, StoredCustomer]] = []
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            await conn.execute(CUSTOM_PLANS)  # one snapshot for every tier; plans that see the words
            if params.q is None:
                if resume_rank != 0:
                    raise InvalidRequest(
                        [FieldError("cursor", "Is not a cursor this API gave out.", "query")]
                    )
                text, args = bitmap_sql(filters, [], 0, after_cpf, wanted)
                found = [(0, record_to_stored(r)) for r in await _fetch(conn, deadline, text, args)]
            else:
                tiers = tiers_of((await _fetch(conn, deadline, ESTIMATES, [params.q]))[0])
                for index, tier in enumerate(tiers):
                    if tier.rank < resume_rank:
                        continue
                    start = after_cpf if tier.rank == resume_rank else ""
                    records = await _tier(conn, deadline, filters, tiers, index, start, wanted - len(found))
                    found.extend((tier.rank, record_to_stored(r)) for r in records)
                    if len(found) >= wanted:
                        break
        items = [stored for _, stored in found[: params.limit]]
        if len(found) < wanted:
            return Page(items, None)
        last_tier, last = found[params.limit - 1]
        return Page(items, Position(last.customer.cpf, last_tier, signature))


async def _tier(
    conn: asyncpg.Connection,
    deadline: float,
    filters: SearchFilters,
    tiers: list[Tier],
    tier: int,
    after_cpf: str,
    wanted: int,
) -> list[asyncpg.Record]:
    """Up to ``wanted`` hits of ``tier`` after ``after_cpf``, in CPF order."""
    records: list[asyncpg.Record] = []
    estimate = tiers[tier].estimate
    budget, walked = WALK_ROWS, 0
    while estimate >= BITMAP_BELOW:
        text, args = walk_sql(filters, tiers, tier, after_cpf, wanted - len(records), budget)
        records.extend(await _fetch(conn, deadline, text, args))
        if len(records) >= wanted:
            return records
        end = await _fetch(conn, deadline, WALK_END, [after_cpf, budget - 1])
        if not end:  # the walk reached the end of the table: nothing further
            return records
        after_cpf, walked = end[0][0], walked + budget
        if not records:  # no hit at all in what was walked: they are sparse
            break
        budget = math.ceil((wanted - len(records)) * walked / len(records) * 1.5)
        if walked + budget > estimate * INDEX_ROW_COST:
            break
    text, args = bitmap_sql(filters, tiers, tier, after_cpf, wanted - len(records))
    await conn.execute(BITMAP_ONLY)
    records.extend(await _fetch(conn, deadline, text, args))
    await conn.execute(PLANNER_DEFAULTS)
    return records


async def _fetch(
    conn: asyncpg.Connection, deadline: float, text: str, args: list[Any]
) -> list[asyncpg.Record]:
    """Run one statement within what is left of the search's time budget."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise SearchTooBroad()
    try:
        return await conn.fetch(text, *args, timeout=remaining)
    except TimeoutError:
        raise SearchTooBroad() from None
