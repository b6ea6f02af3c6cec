"""Cold starts, each in a fresh Python process with only what the deployment zip holds
importable (``cold_start_process.py``): the module-level handler builds from the environment on
its first invocation, starts once, fetches the issuer's keys once, holds at most its pool's
connections, imports none of what the zip leaves out and leaves nothing running in the background.
What each step cost is printed (``bench/lambda_cold_start.py`` measures it); no timing is asserted."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import asyncpg
import pytest

from tests.conftest import ROOT, customer_revocation_env
from tests.customer_service.factories import customer
from tests.shared.auth.jwks_server import JwksServer
from tests.shared.auth.token_factory import SigningKey, claims, jwks

KEY = SigningKey.generate("RS256", kid="cold-start")


@pytest.fixture
def issuer() -> Iterator[JwksServer]:
    server = JwksServer()
    server.serve_issuer(jwks(KEY))
    with server.running():
        yield server


def _connections(database_url: str) -> int:
    async def count() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            name = database_url.rsplit("/", 1)[1]
            found = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name
            )
            return int(found)
        finally:
            await conn.close()

    return asyncio.run(count())


def test_each_cold_start_starts_once_with_bounded_work(
    customer_db: str, issuer: JwksServer, redis_url: str, redis_namespace: str
) -> None:
    environment = {
        **os.environ,
        **customer_revocation_env(redis_url, redis_namespace, "cold-start"),
        "CUSTOMER_DATABASE_URL": customer_db,
        "CUSTOMER_ISSUER": issuer.url,
        "CUSTOMER_DB_POOL_MIN": "1",
        "CUSTOMER_DB_POOL_MAX": "2",
        "COLD_START_TOKEN": KEY.sign(claims(iss=issuer.url, scope="customers:read customers:write")),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for start in range(2):
        environment["COLD_START_CUSTOMER"] = json.dumps(customer(100 + start))
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.serverless.cold_start_process", "customer-service"],
            cwd=ROOT, env=environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert process.stdout is not None
        assert process.stdin is not None
        report = json.loads(process.stdout.readline())
        held = _connections(customer_db)
        process.stdin.write("\n")
        process.stdin.flush()
        assert process.wait(timeout=30) == 0
        print(f"cold start {start + 1}: {report}")
        assert report["statuses"] == [200, 201, 200]
        assert issuer.jwks_requests == start + 1  # once per environment, whatever it serves
        assert 1 <= held <= 2  # its pool, reused by every invocation
        assert report["background_tasks"] == 0
        assert report["omitted_but_imported"] == []
        assert report["started_in"] is not None
