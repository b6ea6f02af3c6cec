"""Hundreds of concurrent If-Match updates against the real customer service process: no update
is lost. Every 200 carries a version no other 200 carries, the stored customer is the last
acknowledged write, and everything else is 412 having changed nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from devstack.databases import create_database, drop_database
from tests.conftest import SESSION_TAG, customer_revocation_env
from tests.processes import ServiceProcess
from tests.shared.auth.jwks_server import JwksServer
from tests.shared.auth.token_factory import AUDIENCE, SigningKey, claims, jwks

pytestmark = pytest.mark.e2e

KEY = SigningKey.generate("ES256", kid="concurrency-1")
CPF = "52998224725"
URL = f"/api/1/customers/{CPF}"
PATCH = "application/merge-patch+json"


@pytest.fixture(scope="module")
def service(
    customer_template: str,
    pg_server_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    redis_url: str,
    redis_namespace: str,
) -> Iterator[tuple[ServiceProcess, str, dict[str, str]]]:
    issuer = JwksServer()
    issuer.jwks = jwks(KEY)
    name = f"test_{SESSION_TAG}_concurrency"
    url = asyncio.run(create_database(pg_server_url, name, template=customer_template))
    with issuer.running():
        process = ServiceProcess(
            "customer_service",
            {
                "CUSTOMER_DATABASE_URL": url,
                "CUSTOMER_ISSUER": issuer.url,
                "CUSTOMER_AUDIENCE": AUDIENCE,
                **customer_revocation_env(redis_url, redis_namespace, "concurrency"),
            },
            Path(tmp_path_factory.mktemp("logs")),
        ).start()
        token = KEY.sign(claims(iss=issuer.url, scope="customers:read customers:write", sub="writer"))
        try:
            yield process, url, {"Authorization": f"Bearer {token}"}
        finally:
            process.stop()
            asyncio.run(drop_database(pg_server_url, name))


async def _client(process: ServiceProcess, headers: dict[str, str]) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    return httpx.AsyncClient(base_url=process.url, headers=headers, timeout=30, limits=limits)


async def _events(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM customer_events WHERE action = 'updated'"))
    finally:
        await conn.close()


def test_concurrent_updates_lose_nothing(service: tuple[ServiceProcess, str, dict[str, str]]) -> None:
    process, database_url, headers = service

    async def scenario() -> None:
        async with await _client(process, headers) as client:
            created = await client.post(
                "/api/1/customers",
                json={
                    "cpf": CPF,
                    "email": "disputada@example.com",
                    "name": "Cliente Disputada",
                    "number": "0",
                },
            )
            assert created.status_code == 201, created.text

            # 1. A burst: 200 writers holding the same ETag; exactly one may win.
            etag = created.headers["etag"]
            burst = await asyncio.gather(
                *(
                    client.patch(
                        URL,
                        json={"complement": f"writer {i}"},
                        headers={"If-Match": etag, "Content-Type": PATCH},
                    )
                    for i in range(200)
                )
            )
            winners = [r for r in burst if r.status_code == 200]
            assert len(winners) == 1
            assert sorted({r.status_code for r in burst}) == [200, 412]
            current = await client.get(URL)
            assert current.json()["complement"] == winners[0].json()["complement"]
            assert current.headers["etag"] == winners[0].headers["etag"]
            assert await _events(database_url) == 1

            # 2. Read-modify-write: 16 workers each add 1 to a counter 6 times, retrying on 412.
            acknowledged: list[tuple[int, dict[str, Any]]] = []
            stale = 0

            async def worker() -> None:
                nonlocal stale
                done = 0
                while done < 6:
                    read = await client.get(URL)
                    value = int(read.json()["number"])
                    write = await client.patch(
                        URL,
                        json={"number": str(value + 1)},
                        headers={"If-Match": read.headers["etag"], "Content-Type": PATCH},
                    )
                    if write.status_code == 412:
                        stale += 1
                        continue
                    assert write.status_code == 200, write.text
                    acknowledged.append((int(write.headers["etag"].strip('"')), write.json()))
                    done += 1

            started = time.monotonic()
            await asyncio.gather(*(worker() for _ in range(16)))
            elapsed = time.monotonic() - started

            versions = [version for version, _ in acknowledged]
            assert len(versions) == 96
            assert len(set(versions)) == 96, "two acknowledged writes share a version"
            final = await client.get(URL)
            assert final.json()["number"] == "96", "an acknowledged increment was lost"
            last = max(acknowledged, key=lambda pair: pair[0])[1]
            assert final.json() == last
            assert sorted(int(body["number"]) for _, body in acknowledged) == list(range(1, 97))
            assert stale > 0, "the workers never raced; the test proved nothing"
            assert await _events(database_url) == 1 + 96
            print(f"\n96 increments, {stale} stale ETags answered 412, {elapsed:.1f} s")

    asyncio.run(scenario())
