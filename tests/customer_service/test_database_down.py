"""The database going away: 503 + Retry-After as problem+json on every endpoint, then recovery by
itself when it returns, without restarting the service. The PostgreSQL stopped here is the test's
own (in a temporary folder), never a shared one. Under write load, against the real process:
tests/e2e/test_customer_drills.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from customer_service.cli import MIGRATIONS
from devstack.databases import create_database
from devstack.embedded import EmbeddedPostgres
from shared.db.migrate import apply_migrations
from tests.customer_service.conftest import BASE, AppFactory
from tests.customer_service.factories import cpf, customer


@pytest.fixture
async def own_postgres(tmp_path: Path) -> AsyncIterator[tuple[EmbeddedPostgres, str]]:
    server = EmbeddedPostgres(tmp_path / "pg")
    await asyncio.to_thread(server.start)
    try:
        url = await create_database(server.url, "customers")
        await apply_migrations(url, MIGRATIONS, "customer_service")
        yield server, url
    finally:
        await asyncio.to_thread(server.stop)


async def test_outage_is_503_then_recovers(
    own_postgres: tuple[EmbeddedPostgres, str], make_api: AppFactory
) -> None:
    server, url = own_postgres
    api: httpx.AsyncClient = await make_api(database_url=url)
    assert (await api.post(BASE, json=customer(1))).status_code == 201

    await asyncio.to_thread(server.stop)
    calls = [
        api.get(f"{BASE}/{cpf(1)}"),
        api.get(BASE),
        api.get(f"{BASE}/search", params={"q": "cliente"}),
        api.post(BASE, json=customer(2)),
        api.patch(
            f"{BASE}/{cpf(1)}",
            json={"city": "Recife"},
            headers={"Content-Type": "application/merge-patch+json", "If-Match": "*"},
        ),
        api.delete(f"{BASE}/{cpf(1)}"),
    ]
    for response in [await call for call in calls]:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) > 0
        assert response.json()["type"].endswith("/database-unavailable")
    ready = await api.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["database"]

    await asyncio.to_thread(server.start)
    for _ in range(50):  # the pool reconnects on demand; no restart of the app
        response = await api.get(f"{BASE}/{cpf(1)}")
        if response.status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert response.status_code == 200
    assert response.json()["cpf"] == cpf(1)
    assert (await api.post(BASE, json=customer(2))).status_code == 201
    assert (await api.get("/readyz")).status_code == 200
