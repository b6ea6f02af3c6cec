"""Failure drills on the real customer service process: its database restarted under load, and a
graceful shutdown during load. The test owns the PostgreSQL it stops (never the machine's)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from devstack.databases import create_database
from devstack.embedded import EmbeddedPostgres
from tests.conftest import ROOT, customer_revocation_env
from tests.drill_support import bearer, new_customer
from tests.processes import ServiceProcess
from tests.shared.auth.jwks_server import JwksServer
from tests.shared.auth.token_factory import SigningKey, jwks

pytestmark = pytest.mark.e2e

KEY = SigningKey.generate("RS256", kid="drill-1")
WRITE = "customers:read customers:write"


@pytest.fixture(scope="module")
def issuer() -> Iterator[JwksServer]:
    server = JwksServer()
    server.jwks = jwks(KEY)
    with server.running():
        yield server


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path / "pg")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def migrated_database(server: EmbeddedPostgres) -> str:
    url = asyncio.run(create_database(server.url, "customers"))
    subprocess.run(
        [sys.executable, "-m", "customer_service", "db", "upgrade"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "CUSTOMER_DATABASE_URL": url},
        capture_output=True,
    )
    return url


def test_database_restart_under_load(
    own_postgres: EmbeddedPostgres, issuer: JwksServer, tmp_path: Path, redis_url: str, redis_namespace: str
) -> None:
    url = migrated_database(own_postgres)
    env = {"CUSTOMER_DATABASE_URL": url, "CUSTOMER_ISSUER": issuer.url}
    env |= customer_revocation_env(redis_url, redis_namespace, "drill-restart")
    service = ServiceProcess("customer_service", env, tmp_path).start()
    headers = bearer(KEY, issuer.url, WRITE)
    run = random.randrange(1, 9000)
    outcomes: list[tuple[float, int, str, str | None]] = []  # (sent at, status, cpf, retry-after)

    async def writer(stop_at: float) -> None:
        async with httpx.AsyncClient(base_url=service.url, headers=headers, timeout=15) as client:
            while time.monotonic() < stop_at:
                customer = new_customer(run)
                sent = time.monotonic()
                response = await client.post("/api/1/customers", json=customer)
                outcomes.append(
                    (sent, response.status_code, customer["cpf"], response.headers.get("retry-after"))
                )
                if response.status_code == 503:
                    assert response.headers["content-type"] == "application/problem+json"
                    await asyncio.sleep(0.05)

    async def drill() -> tuple[float, float]:
        stop_at = time.monotonic() + 14
        writers = [asyncio.create_task(writer(stop_at)) for _ in range(8)]
        await asyncio.sleep(2)
        down_at = time.monotonic()
        await asyncio.to_thread(own_postgres.stop)
        await asyncio.sleep(2)
        await asyncio.to_thread(own_postgres.start)
        up_at = time.monotonic()
        await asyncio.gather(*writers)
        return down_at, up_at

    try:
        down_at, up_at = asyncio.run(drill())
    finally:
        service.stop()

    statuses = {status for _, status, _, _ in outcomes}
    assert statuses <= {201, 503}, statuses
    assert all(retry for _, status, _, retry in outcomes if status == 503)
    assert any(status == 503 for _, status, _, _ in outcomes), "the outage was not noticed"
    assert any(status == 201 and sent < down_at for sent, status, _, _ in outcomes)
    assert any(status == 201 and sent > up_at for sent, status, _, _ in outcomes), "no recovery"
    acknowledged = {cpf for _, status, cpf, _ in outcomes if status == 201}

    async def stored() -> set[str]:
        conn = await asyncpg.connect(url)
        try:
            return {row["cpf"] for row in await conn.fetch("SELECT cpf FROM customers")}
        finally:
            await conn.close()

    assert acknowledged <= asyncio.run(stored()), "an acknowledged write was lost"


def test_sigterm_drains_in_flight_requests(
    own_postgres: EmbeddedPostgres, issuer: JwksServer, tmp_path: Path, redis_url: str, redis_namespace: str
) -> None:
    url = migrated_database(own_postgres)
    env = {"CUSTOMER_DATABASE_URL": url, "CUSTOMER_ISSUER": issuer.url}
    env |= customer_revocation_env(redis_url, redis_namespace, "drill-sigterm")
    service = ServiceProcess("customer_service", env, tmp_path).start()
    headers = bearer(KEY, issuer.url, WRITE)
    run = random.randrange(1, 9000)
    results: list[str] = []

    async def client_loop() -> None:
        # A new connection per request, so no answer is lost to a keep-alive race.
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(
            base_url=service.url, headers=headers, timeout=15, limits=limits
        ) as client:
            while True:
                try:
                    response = await client.post("/api/1/customers", json=new_customer(run))
                except httpx.ConnectError:
                    results.append("refused")
                    return
                except httpx.HTTPError as exc:
                    results.append(f"cut:{type(exc).__name__}")
                    return
                results.append(str(response.status_code))

    async def drill() -> int | None:
        clients = [asyncio.create_task(client_loop()) for _ in range(16)]
        await asyncio.sleep(1.5)
        assert service.process is not None
        service.process.send_signal(signal.SIGTERM)
        await asyncio.gather(*clients)
        return await asyncio.to_thread(service.process.wait, 30)

    returncode = asyncio.run(drill())
    # uvicorn drains, then re-raises the signal it caught, so the exit status says "SIGTERM".
    assert returncode in (0, -signal.SIGTERM)
    assert "Finished server process" in service.log()
    # A connection the kernel queued after uvicorn stopped accepting is reset unread (ReadError
    # with no request processed); what must never happen is a request processed and its answer
    # lost: every stored customer was answered 201, and nothing else was answered.
    assert set(results) <= {"201", "refused", "cut:ReadError", "cut:RemoteProtocolError"}, results
    assert results.count("201") > 10

    async def stored() -> int:
        conn = await asyncpg.connect(url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM customers"))
        finally:
            await conn.close()

    assert asyncio.run(stored()) == results.count("201")
