"""How long from a revocation until every customer-service replica refuses the token?

Starts the auth service and two customer-service replicas as processes (default settings: the
replicas follow the revocation stream), then, ``BENCH_REVOCATIONS`` times (default 100): logs a
user in, makes sure both replicas accept the access token (so it sits in their token caches),
revokes it — alternately the access token itself and its session (the refresh token) through
``/oauth/revoke`` — and polls both replicas every 5 ms until both answer 401. Prints p50, p90, p99
and the maximum, measured from just before the revocation request is sent. Goal: p99 <= 1 s.

Run: .venv/bin/python -m bench.revocation_propagation   [BENCH_REVOCATIONS=100]
Uses BENCH_DATABASE_URL / BENCH_REDIS_URL (server URLs) when set, else embedded servers.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.auth_tokens import ROOT, data_stores
from devstack.databases import create_database, drop_database
from shared.db.migrate import apply_migrations
from tests.ecosystem import Ecosystem, running_ecosystem

REVOCATIONS = int(os.environ.get("BENCH_REVOCATIONS", "100"))
PASSWORD = "benchmark viewer passphrase"
POLL = 0.005


async def _refused_after(client: httpx.AsyncClient, replicas: list[str], token: str, started: float) -> float:
    async def one(url: str) -> float:
        while True:
            answer = await client.get(
                url + "/api/1/customers", params={"limit": 1}, headers={"Authorization": f"Bearer {token}"}
            )
            if answer.status_code == 401:
                return time.perf_counter() - started
            if time.perf_counter() - started > 30:
                raise RuntimeError(f"{url} still accepts a revoked token after 30 s")
            await asyncio.sleep(POLL)

    return max(await asyncio.gather(*(one(url) for url in replicas)))


async def _measure(system: Ecosystem, email: str) -> list[float]:
    replicas = [replica.url for replica in system.replicas]
    form = {"grant_type": "password", "client_id": "first-party", "username": email, "password": PASSWORD}
    seconds: list[float] = []
    async with httpx.AsyncClient(timeout=30) as client:
        for i in range(REVOCATIONS):
            login = (await client.post(system.auth.url + "/oauth/token", data=form)).json()
            token = login["access_token"]
            for url in replicas:
                warm = await client.get(
                    url + "/api/1/customers",
                    params={"limit": 1},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert warm.status_code == 200, warm.text
            revoked = token if i % 2 == 0 else login["refresh_token"]
            started = time.perf_counter()
            answer = await client.post(
                system.auth.url + "/oauth/revoke", data={"token": revoked, "client_id": "first-party"}
            )
            assert answer.status_code == 200, answer.text
            seconds.append(await _refused_after(client, replicas, token, started))
    return seconds


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    with data_stores() as (server_url, redis_url), tempfile.TemporaryDirectory() as logs:
        tag = secrets.token_hex(3)
        templates = (f"bench_tmpl_auth_{tag}", f"bench_tmpl_customers_{tag}")
        for name, service in zip(templates, ("auth_service", "customer_service"), strict=True):
            url = asyncio.run(create_database(server_url, name))
            asyncio.run(apply_migrations(url, ROOT / service / "migrations", service))
        try:
            with running_ecosystem(
                server_url,
                templates,
                redis_url,
                f"bench:{tag}",
                Path(logs),
                name="bench_revocation",
                customer_replicas=2,
            ) as system:
                email = f"bench-viewer-{tag}@example.com"
                system.create_user(email, PASSWORD, ["viewer"])
                seconds = asyncio.run(_measure(system, email))
        finally:
            for name in templates:
                asyncio.run(drop_database(server_url, name))
    ms = [s * 1000 for s in seconds]
    print(
        f"revocation -> refused by both replicas, {len(ms)} revocations"
        " (half access tokens, half sessions):\n"
        f"  p50 {_percentile(ms, 0.5):.1f} ms  p90 {_percentile(ms, 0.9):.1f} ms  "
        f"p99 {_percentile(ms, 0.99):.1f} ms  max {max(ms):.1f} ms  mean {statistics.fmean(ms):.1f} ms"
    )


if __name__ == "__main__":
    main()
