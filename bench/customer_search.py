"""How fast the customer search answers over a million customers: typical searches, first pages.

    python -m bench.customer_search                      # embedded PostgreSQL in a temp folder
    python -m bench.customer_search --data-dir .data/bench-search   # keep (and reuse) the data
    python -m bench.customer_search --server-url postgresql://postgres@host:5432/postgres

It creates (or reuses, when already seeded with as many rows) the database ``bench_customer_search``,
applies the migrations, seeds ``--rows`` customers by COPY (``bench.customer_seed``), analyses,
then times each search through the service's own ``CustomerSearch`` (the SQL the endpoint runs,
every round trip included): median, p95 and max of ``--runs`` runs after one warm-up, the hits on
the first page, and the tier the page ended in. For comparison it also times the classic
``ORDER BY ts_rank(...) LIMIT 20`` over every hit, which the tiers replace.

An embedded cluster gets ``shared_buffers = 512MB`` (PostgreSQL's 128 MB default is smaller than
this table); against your own server its settings are used as they are.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs

import asyncpg

from bench.customer_seed import seed_customers
from customer_service.cli import MIGRATIONS
from customer_service.customers.query_params import SearchQuery
from customer_service.customers.search import CustomerSearch
from devstack.databases import create_database, with_database
from devstack.embedded import EmbeddedPostgres
from shared.db.migrate import apply_migrations
from shared.db.pool import PostgresPool

DATABASE = "bench_customer_search"

HITS = "SELECT count(*) FROM customers WHERE search_document @@ customer_search_query($1, true, true)"
RANKED = """
WITH q AS MATERIALIZED (SELECT customer_search_query($1, true, true) AS query)
SELECT cpf FROM customers, q WHERE search_document @@ q.query
ORDER BY ts_rank(search_document, q.query) DESC, cpf LIMIT 20
"""


async def typical_searches(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """(what, query string): the examples a call centre types, some taken from real rows."""
    count = await conn.fetchval("SELECT count(*) FROM customers")
    row = await conn.fetchrow("SELECT * FROM customers ORDER BY cpf OFFSET $1 LIMIT 1", count // 8)
    assert row is not None
    cpf, phone, zipcode = row["cpf"], row["phone_number"], row["zipcode"]
    return [
        ("name, two words", "q=joão silva"),
        ("city, no accents", "q=sao paulo"),
        ("prefix while typing", "q=joã"),
        ("typo", "q=fernada"),
        ("common surname", "q=silva"),
        ("street name", "q=paulista"),
        ("CPF, formatted", f"q={cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"),
        ("CPF, first 6 digits", f"q={cpf[:6]}"),
        ("phone, as typed", f"q=({phone[3:5]}) {phone[5:10]}-{phone[10:]}"),
        ("zipcode", f"q={zipcode}"),
        ("e-mail", f"q={row['email']}"),
        ("profession + city", "q=engenheiro recife"),
        ("word + state filter", "q=ana&state=SP"),
        ("filters only", "city=Recife&minSalary=10000"),
        ("range filters only", "bornFrom=1990-01-01&bornTo=1990-12-31&maxSalary=3000"),
        ("no hit", "q=xanadu"),
    ]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


async def time_searches(url: str, runs: int) -> None:
    pool = PostgresPool(url, min_size=1, max_size=2)
    await pool.open()
    search = CustomerSearch(pool, timeout=60)
    conn = await asyncpg.connect(url)
    try:
        print(
            f"\n{'search':<22} {'query':<38} {'hits':>4} {'tier':>4} {'p50 ms':>8} {'p95 ms':>8} {'max':>8}"
        )
        for what, query in await typical_searches(conn):
            params = SearchQuery.read(parse_qs(query, keep_blank_values=True))
            page = await search.search(params)  # warm-up
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                page = await search.search(params)
                timings.append(time.perf_counter() - started)
            timings.sort()
            tier = "-" if page.next is None or page.next.tier is None else str(page.next.tier + 1)
            figures = " ".join(
                _ms(t) for t in (statistics.median(timings), timings[int(runs * 0.95) - 1], timings[-1])
            )
            print(f"{what:<22} {query[:38]:<38} {len(page.items):>4} {tier:>4} {figures}")
        print("\nfor comparison, ORDER BY ts_rank over every hit (what the tiers avoid):")
        for q in ("silva", "sao paulo", "joão silva"):
            hits = await conn.fetchval(HITS, q)
            timings = []
            for _ in range(max(3, runs // 10)):
                started = time.perf_counter()
                await conn.fetch(RANKED, q)
                timings.append(time.perf_counter() - started)
            print(f"  q={q:<20} {hits:>7} hits  p50 {_ms(statistics.median(timings))} ms")
    finally:
        await conn.close()
        await pool.close()


async def prepare(server_url: str, rows: int) -> str:
    url = await create_database(server_url, DATABASE)
    await apply_migrations(url, MIGRATIONS, "customer_service")
    conn = await asyncpg.connect(url)
    try:
        present = await conn.fetchval("SELECT count(*) FROM customers")
        buffers = await conn.fetchval("SHOW shared_buffers")
    finally:
        await conn.close()
    if present == rows:
        print(f"{DATABASE}: {rows:,} customers already seeded")
    elif present == 0:
        print(f"seeding {rows:,} customers (COPY, 2 connections)...", flush=True)
        print(f"seeded in {await seed_customers(url, rows):.0f} s")
    else:
        raise SystemExit(
            f"{DATABASE} holds {present:,} customers, not {rows:,}: drop it or pass --rows {present}"
        )
    print(f"shared_buffers = {buffers}")
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--server-url", help="a PostgreSQL server URL; default: an embedded one")
    parser.add_argument("--data-dir", type=Path, help="keep the embedded cluster here (reused next time)")
    args = parser.parse_args()
    if args.server_url:
        url = asyncio.run(prepare(args.server_url, args.rows))
        asyncio.run(time_searches(url, args.runs))
        return
    with tempfile.TemporaryDirectory(prefix="bench-search-") as temporary:
        data_dir = args.data_dir or Path(temporary)
        server = EmbeddedPostgres(data_dir / "pg")
        server.start()
        try:
            asyncio.run(_tune(server.url))
            server.stop()
            server.start()
            url = asyncio.run(prepare(server.url, args.rows))
            asyncio.run(time_searches(url, args.runs))
        finally:
            server.stop()


async def _tune(server_url: str) -> None:
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        await conn.execute("ALTER SYSTEM SET shared_buffers = '512MB'")
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
