"""CUSTOMER_CHECK_REVOCATION: tokens the auth service revoked (its Redis deny-list) are refused
before they expire; off by default, when Redis is not needed at all."""

from __future__ import annotations

import time

import httpx
from redis.asyncio import Redis

from shared.auth.deny_list import DenyList
from tests.customer_service.conftest import BASE, KEY, AppFactory
from tests.shared.auth.token_factory import claims

SCOPE = "customers:read"


async def test_revoked_token_is_refused(make_api: AppFactory, redis_url: str, redis_namespace: str) -> None:
    prefix = f"{redis_namespace}:customer-revocation:"
    api = await make_api(check_revocation=True, redis_url=redis_url, redis_prefix=prefix)
    revoked, kept = claims(scope=SCOPE), claims(scope=SCOPE)
    redis = Redis.from_url(redis_url)
    try:
        await DenyList(redis, prefix).add(revoked["jti"], int(time.time()) + 600)
    finally:
        await redis.aclose()

    refused = await api.get(BASE, headers={"Authorization": f"Bearer {KEY.sign(revoked)}"})
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert "revoked" in refused.json()["detail"]
    accepted = await api.get(BASE, headers={"Authorization": f"Bearer {KEY.sign(kept)}"})
    assert accepted.status_code == 200
    ready = await api.get("/readyz")
    assert ready.json()["checks"] == {"database": "ok", "signing_keys": "ok", "redis": "ok"}


async def test_unreachable_redis_is_503_not_a_pass(make_api: AppFactory) -> None:
    api: httpx.AsyncClient = await make_api(check_revocation=True, redis_url="redis://127.0.0.1:1/0")
    response = await api.get(BASE)
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert (await api.get("/readyz")).json()["failing"] == ["redis"]


async def test_off_by_default_needs_no_redis(make_api: AppFactory) -> None:
    api = await make_api(redis_url="redis://127.0.0.1:1/0")
    assert (await api.get(BASE)).status_code == 200
    assert (await api.get("/readyz")).status_code == 200
