"""Reading and moving rows the services own, on the app's own pool and event loop."""

from __future__ import annotations

from typing import Any

from tests.auth_service.conftest import AuthClient


def fetch(auth: AuthClient, query: str, *args: Any) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        async with auth.services.pool.acquire() as conn:
            return [dict(r) for r in await conn.fetch(query, *args)]

    rows: list[dict[str, Any]] = auth.call(run)
    return rows


def execute(auth: AuthClient, query: str, *args: Any) -> None:
    fetch(auth, query, *args)
