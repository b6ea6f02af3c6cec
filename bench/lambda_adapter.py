"""What does the Lambda adapter cost per warm invocation, over the plain ASGI app?

The same app instance (the customer service, its keys injected, revocation checked against a
real Redis stream, a real PostgreSQL) answers the same authenticated ``GET /api/1/customers/{cpf}``
two ways, interleaved in ``BENCH_ROUNDS`` rounds of ``BENCH_REQUESTS`` each, in one run:

- ``asgi``: the app called directly with an ASGI scope, as a server calls it, on a running loop;
- ``lambda``: ``LambdaApp`` called with an API Gateway HTTP API event (payload 2.0) and returning
  the API Gateway response: the before-invocation hooks, Mangum's event and response conversion,
  and the loop entered and left per invocation, as Lambda's runtime calls a handler.

Prints the median per request of each and the difference. Goal: <= 1 ms.

Run: .venv/bin/python -m bench.lambda_adapter   [BENCH_ROUNDS=5 BENCH_REQUESTS=2000]
Uses BENCH_DATABASE_URL / BENCH_REDIS_URL (server URLs) when set, else embedded servers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import statistics
import time
from typing import Any

from bench.auth_tokens import ROOT, data_stores
from customer_service.lambda_handler import build_handler
from devstack.databases import create_database, drop_database
from shared.db.migrate import apply_migrations
from tests.customer_service.conftest import KEY, bearer, key_source, settings_for
from tests.customer_service.factories import customer
from tests.serverless.lambda_events import http_event

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))


def _scope(path: str, token: str) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.0"}, "http_version": "1.1",
        "method": "GET", "scheme": "https", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": [(b"host", b"api.example.com"), (b"authorization", token.encode())],
        "client": ("203.0.113.7", 0), "server": ("api.example.com", 443), "state": {},
    }  # fmt: skip


async def _asgi_round(app: Any, scope: dict[str, Any], count: int) -> float:
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.perf_counter()
    for _ in range(count):
        await app(dict(scope), receive, send)
    elapsed = time.perf_counter() - started
    assert set(statuses) == {200}, set(statuses)
    return elapsed / count


def main() -> None:
    logging.disable(logging.INFO)  # the access log would be most of both figures
    with data_stores() as (server_url, redis_url):
        name = f"bench_adapter_{secrets.token_hex(3)}"
        url = asyncio.run(create_database(server_url, name))
        asyncio.run(apply_migrations(url, ROOT / "customer_service" / "migrations", "customer_service"))
        settings = settings_for(
            url, redis_url=redis_url, redis_prefix=f"bench:{name}:", db_pool_min=1, db_pool_max=2
        )
        function = build_handler(settings, key_source=key_source())
        token = bearer()["Authorization"]
        created = function(
            http_event(
                "POST",
                "/api/1/customers",
                body=json.dumps(customer(1)),
                headers={"content-type": "application/json", "authorization": token},
            ),
            None,
        )
        assert created["statusCode"] == 201, created
        path = f"/api/1/customers/{json.loads(created['body'])['cpf']}"
        event = http_event("GET", path, headers={"authorization": token})
        asgi, through_lambda = [], []
        try:
            for _ in range(ROUNDS):
                started = time.perf_counter()
                for _ in range(REQUESTS):
                    assert function(event, None)["statusCode"] == 200
                through_lambda.append((time.perf_counter() - started) / REQUESTS)
                asgi.append(function.run(_asgi_round(function.asgi_app, _scope(path, token), REQUESTS)))
        finally:
            function.close()
            asyncio.run(drop_database(server_url, name))
    plain, adapted = statistics.median(asgi) * 1e6, statistics.median(through_lambda) * 1e6
    print(
        f"GET /api/1/customers/{{cpf}} ({KEY.alg} token, cached), {ROUNDS} rounds x {REQUESTS},"
        " median per request:"
    )
    print(f"  plain ASGI      {plain:8.1f} us")
    print(f"  Lambda adapter  {adapted:8.1f} us")
    print(f"  overhead        {adapted - plain:8.1f} us  (goal <= 1000 us)")


if __name__ == "__main__":
    main()
