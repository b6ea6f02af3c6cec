"""Revocation at the customer API, on by default: what the auth service revokes (written to its
Redis stream, here as its publisher writes it) is refused within a second, with the RFC 6750
challenge; Redis away past ``CUSTOMER_REVOCATION_GRACE`` is 503 problem+json, then recovery by
itself. Tests that stop Redis stop their own, never the shared one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from devstack.embedded import EmbeddedRedis
from tests.customer_service.conftest import BASE, KEY, AppFactory
from tests.shared.auth.revocation_stream import publish, revocation
from tests.shared.auth.token_factory import claims

SCOPE = "customers:read"
PROBLEM = "application/problem+json"


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


def as_bearer(token_claims: dict[str, object]) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEY.sign(token_claims)}"}


async def refused_within_a_second(api: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    deadline = time.monotonic() + 1.0
    while True:
        response = await api.get(BASE, headers=headers)
        if response.status_code != 200 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.02)


def assert_revoked(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="customers"')
    assert 'error="invalid_token"' in challenge
    assert 'error_description="The access token was revoked."' in challenge
    assert response.json()["detail"] == "The access token was revoked."


async def test_a_revoked_token_is_refused_and_others_are_not(
    make_api: AppFactory, redis: Redis, revocation_prefix: str
) -> None:
    api = await make_api()
    revoked, kept = claims(scope=SCOPE), claims(scope=SCOPE)
    assert (await api.get(BASE, headers=as_bearer(revoked))).status_code == 200  # verified, cached
    await publish(redis, revocation_prefix, revocation("jti", revoked["jti"], exp=revoked["exp"]))
    assert_revoked(await refused_within_a_second(api, as_bearer(revoked)))
    assert (await api.get(BASE, headers=as_bearer(kept))).status_code == 200
    ready = await api.get("/readyz")
    assert ready.json()["checks"] == {"database": "ok", "signing_keys": "ok", "revocations": "ok"}
    metrics = (await api.get("/metrics")).text
    assert 'revocation_events_total{kind="jti"} 1.0' in metrics
    assert "revocation_feed_age_seconds " in metrics


async def test_a_disabled_user_is_refused_until_a_new_token_is_issued(
    make_api: AppFactory, redis: Redis, revocation_prefix: str
) -> None:
    api = await make_api()
    now = int(time.time())
    before = claims(scope=SCOPE, sub="user-9", iat=now - 5)
    await publish(redis, revocation_prefix, revocation("sub", "user-9", at=now - 1))
    assert_revoked(await refused_within_a_second(api, as_bearer(before)))
    issued_after = claims(scope=SCOPE, sub="user-9", iat=now)
    assert (await api.get(BASE, headers=as_bearer(issued_after))).status_code == 200
    someone_else = claims(scope=SCOPE, sub="user-8", iat=now - 5)
    assert (await api.get(BASE, headers=as_bearer(someone_else))).status_code == 200


async def test_a_revoked_signing_key_verifies_nothing_any_more(
    make_api: AppFactory, redis: Redis, revocation_prefix: str
) -> None:
    api = await make_api()
    token = as_bearer(claims(scope=SCOPE))
    assert (await api.get(BASE, headers=token)).status_code == 200
    await publish(redis, revocation_prefix, revocation("kid", KEY.kid))
    response = await refused_within_a_second(api, token)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert (await api.get(BASE, headers=as_bearer(claims(scope=SCOPE)))).status_code == 401


async def test_redis_unreachable_from_the_start_is_503_never_a_pass(make_api: AppFactory) -> None:
    api = await make_api(redis_url="redis://127.0.0.1:1/0")
    response = await api.get(BASE)
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"]
    assert response.json()["type"].endswith("/revocation-check-unavailable")
    assert (await api.get("/readyz")).json()["failing"] == ["revocations"]


async def test_redis_away_past_the_grace_is_503_then_recovers_by_itself(
    make_api: AppFactory, own_redis: EmbeddedRedis
) -> None:
    api = await make_api(redis_url=own_redis.url, revocation_grace=2)
    assert (await api.get(BASE)).status_code == 200
    await asyncio.to_thread(own_redis.stop)
    stopped = time.monotonic()
    assert (await api.get(BASE)).status_code == 200  # within the grace: the last known set
    await asyncio.sleep(max(0.0, stopped + 2.5 - time.monotonic()))
    refused = await api.get(BASE)
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert int(refused.headers["retry-after"]) > 0
    assert (await api.get("/readyz")).status_code == 503
    metrics = (await api.get("/metrics")).text
    assert "revocation_feed_errors_total" in metrics

    await asyncio.to_thread(own_redis.start)
    deadline = time.monotonic() + 10
    while (await api.get(BASE)).status_code != 200:
        assert time.monotonic() < deadline, "did not recover by itself"
        await asyncio.sleep(0.1)
    assert (await api.get("/readyz")).status_code == 200


async def test_off_needs_no_redis(make_api: AppFactory) -> None:
    api = await make_api(check_revocation=False, redis_url="redis://127.0.0.1:1/0")
    assert (await api.get(BASE)).status_code == 200
    assert (await api.get("/readyz")).status_code == 200
