"""The pool serves waiting requests in arrival order and gives up after its timeout.

asyncpg's own pool lets a newcomer take a connection that was just released while earlier
requests still wait; under load that made a few requests wait many times longer than the rest.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest

from shared.db.pool import DatabaseUnavailable, PostgresPool
from tests.conftest import DatabaseFactory


@pytest.fixture
async def database(make_database: DatabaseFactory) -> str:
    return await make_database("")


async def test_connections_are_granted_in_the_order_they_were_asked_for(database: str) -> None:
    # Like a loaded service: many more requests than connections, each one asking again as soon
    # as it is done. Nobody may get a connection before someone who asked earlier.
    pool = PostgresPool(database, min_size=3, max_size=3)
    await pool.open()
    tickets = iter(range(1_000_000))
    granted: list[int] = []

    async def worker() -> None:
        for _ in range(25):
            ticket = next(tickets)
            async with pool.acquire() as conn:
                granted.append(ticket)
                await conn.fetchval("SELECT 1")

    try:
        await asyncio.gather(*(worker() for _ in range(24)))
    finally:
        await pool.close()
    assert len(granted) == 24 * 25
    overtaken = [(a, b) for a, b in itertools.pairwise(granted) if b < a]
    assert overtaken == []


async def test_a_request_waits_at_most_the_timeout_then_the_database_is_unavailable(
    database: str,
) -> None:
    pool = PostgresPool(database, min_size=1, max_size=1, timeout=0.2)
    await pool.open()
    try:
        async with pool.acquire():
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(DatabaseUnavailable):
                async with pool.acquire():
                    pass
            assert 0.15 < loop.time() - started < 2
        # The connection that timed out waiting took nothing: the pool still serves.
        assert await pool.fetchval("SELECT 41 + 1") == 42
    finally:
        await pool.close()


async def test_a_failed_query_returns_its_connection(database: str) -> None:
    pool = PostgresPool(database, min_size=1, max_size=1, timeout=0.5)
    await pool.open()
    try:
        for _ in range(3):
            with pytest.raises(Exception, match="division by zero"):
                await pool.fetchval("SELECT 1 / 0")
        assert await pool.fetchval("SELECT 1") == 1
    finally:
        await pool.close()
