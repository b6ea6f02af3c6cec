"""Redis killed and restarted under load, against the real customer service process: within
``CUSTOMER_REVOCATION_GRACE`` requests are answered with the last known revocations, past it they
get 503 problem+json with ``Retry-After`` (never an unchecked 200), and once Redis is back the
service recovers by itself and honours what was revoked while it was disconnected. Redis comes
back empty, as a Redis without persistence does; the test republishes what is live, as the auth
service's publisher does. The test owns the Redis it kills (never a shared one)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis

from devstack.embedded import EmbeddedRedis
from shared.auth.revocation_events import Revocation, encode_entry, stream_key
from tests.processes import ServiceProcess
from tests.shared.auth.jwks_server import JwksServer
from tests.shared.auth.token_factory import SigningKey, claims, jwks

pytestmark = pytest.mark.e2e

KEY = SigningKey.generate("RS256", kid="outage-1")
GRACE = 3.0
PREFIX = "outage:"
CUSTOMERS = "/api/1/customers"


@dataclass(frozen=True)
class Answer:
    sent: float
    status: int
    content_type: str
    retry_after: str | None


@pytest.fixture
def issuer() -> Iterator[JwksServer]:
    server = JwksServer()
    server.jwks = jwks(KEY)
    with server.running():
        yield server


def token(issuer: JwksServer) -> dict[str, Any]:
    return claims(iss=issuer.url, scope="customers:read", exp=int(time.time()) + 600)


def bearer(token_claims: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEY.sign(token_claims)}"}


def revoke(redis_url: str, *revoked: dict[str, Any]) -> None:
    """What the publisher XADDs for revoked access tokens (a connection per call: Redis restarts)."""
    client = Redis.from_url(redis_url)
    try:
        for one in revoked:
            entry = Revocation(kind="jti", value=one["jti"], at=time.time(), exp=one["exp"])
            client.xadd(stream_key(PREFIX), encode_entry(entry))  # type: ignore[arg-type]
    finally:
        client.close()


async def load(url: str, headers: dict[str, str], answers: list[Answer], stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as client:
        while not stop.is_set():
            sent = time.monotonic()
            response = await client.get(CUSTOMERS)
            answers.append(
                Answer(sent, response.status_code, response.headers.get("content-type", ""),
                       response.headers.get("retry-after"))
            )  # fmt: skip
            await asyncio.sleep(0.01)


async def status(url: str, headers: dict[str, str]) -> int:
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as client:
        return (await client.get(CUSTOMERS)).status_code


async def until(url: str, headers: dict[str, str], wanted: int, timeout: float) -> float:
    started = time.monotonic()
    while await status(url, headers) != wanted:
        assert time.monotonic() - started < timeout, f"not {wanted} within {timeout} s"
        await asyncio.sleep(0.05)
    return time.monotonic()


async def outage(service: ServiceProcess, redis: EmbeddedRedis, issuer: JwksServer) -> dict[str, Any]:
    early, late, kept = token(issuer), token(issuer), token(issuer)
    revoke(redis.url, early)
    await until(service.url, bearer(early), 401, timeout=2)
    answers: list[Answer] = []
    stop = asyncio.Event()
    workers = [asyncio.create_task(load(service.url, bearer(kept), answers, stop)) for _ in range(4)]
    await asyncio.sleep(1.0)

    killed = time.monotonic()
    await asyncio.to_thread(redis.kill)
    within_grace = await status(service.url, bearer(early))  # the last known set still answers
    await asyncio.sleep(GRACE + 1.5)
    readiness = (await httpx.AsyncClient(base_url=service.url).get("/readyz")).status_code

    restarted = time.monotonic()
    await asyncio.to_thread(redis.start)  # empty
    revoke(redis.url, early, late)  # republished, and revoked while the service was cut off
    recovered = await until(service.url, bearer(kept), 200, timeout=10)
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*workers)
    return {
        "answers": answers, "killed": killed, "restarted": restarted, "recovered": recovered,
        "within_grace": within_grace, "readiness": readiness,
        "early": await status(service.url, bearer(early)), "late": await status(service.url, bearer(late)),
        "kept": await status(service.url, bearer(kept)),
    }  # fmt: skip


def test_redis_killed_and_restarted_under_load(
    customer_db: str, issuer: JwksServer, own_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    env = {
        "CUSTOMER_DATABASE_URL": customer_db,
        "CUSTOMER_ISSUER": issuer.url,
        "CUSTOMER_REDIS_URL": own_redis.url,
        "CUSTOMER_REDIS_PREFIX": PREFIX,
        "CUSTOMER_REVOCATION_GRACE": str(GRACE),
    }
    service = ServiceProcess("customer_service", env, tmp_path).start()
    try:
        seen = asyncio.run(outage(service, own_redis, issuer))
        metrics = httpx.get(service.url + "/metrics").text
    finally:
        service.stop()
    answers: list[Answer] = seen["answers"]
    killed, restarted, recovered = seen["killed"], seen["restarted"], seen["recovered"]

    assert {a.status for a in answers} <= {200, 503}, "only served or refused, never a 500 or a 401"
    # The last successful read was at most a blocked read (1 s) before the kill.
    assert all(a.status == 200 for a in answers if a.sent < killed + GRACE - 1.2)
    assert seen["within_grace"] == 401  # revoked before the outage: still refused meanwhile
    refused = [a for a in answers if killed + GRACE + 0.3 < a.sent < restarted]
    assert refused, "no request was sent past the grace"
    assert all(a.status == 503 for a in refused)
    assert all(a.content_type == "application/problem+json" and a.retry_after for a in refused)
    assert seen["readiness"] == 503
    assert recovered - restarted < 5, "recovered by itself, within the feed's longest back-off"
    assert all(a.status == 200 for a in answers if a.sent > recovered)
    assert (seen["early"], seen["late"], seen["kept"]) == (401, 401, 200)
    assert "revocation_feed_errors_total" in metrics
