"""The customer service in-process, on a fresh migrated database, with tokens signed by a test key.

``api`` is an httpx client over the ASGI app (lifespan run), in the test's own event loop, so
tests can fire concurrent requests and read the database with asyncpg between them. Every request
carries a token with all customer scopes unless the test sends its own Authorization header.
Revocation is checked, as by default, against the test Redis under a prefix of the test's own
(``revocation_prefix``: a test revokes by writing that stream). The default token is a person's who
logged in with a second factor, as ``DELETE`` requires by default (``test_step_up.py`` sends others).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from customer_service.app import create_app
from customer_service.settings import ENV_PREFIX, CustomerSettings
from shared.auth.keys import PreparedKey, StaticKeySource
from shared.settings import settings_from_values
from tests.shared.auth.token_factory import AUDIENCE, ISSUER, SigningKey, claims, login_claims

KEY = SigningKey.generate("EdDSA", kid="customer-tests")
ALL_SCOPES = "customers:read customers:write customers:delete"
BASE = "/api/1/customers"
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


def bearer(
    scope: str = ALL_SCOPES, sub: str = "agent-7", *, mfa: bool = True, **extra: Any
) -> dict[str, str]:
    """A person's token (``mfa=False``: a password-only login); ``extra`` claims override."""
    token_claims = claims(scope=scope, sub=sub, **{**login_claims(mfa=mfa), **extra})
    return {"Authorization": f"Bearer {KEY.sign(token_claims)}"}


def key_source() -> StaticKeySource:
    return StaticKeySource([PreparedKey.from_jwk(KEY.public_jwk())])


def settings_for(database_url: str, **overrides: Any) -> CustomerSettings:
    """Settings by leaf name (``search_timeout=0.5``), wherever they are nested."""
    values = {"database_url": database_url, "issuer": ISSUER, "audience": AUDIENCE, **overrides}
    return settings_from_values(CustomerSettings, values, ENV_PREFIX)


AppFactory = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
def revocation_prefix(redis_namespace: str) -> str:
    return f"{redis_namespace}:customers-{uuid.uuid4().hex[:8]}:"


@pytest.fixture
async def make_api(customer_db: str, redis_url: str, revocation_prefix: str) -> AsyncIterator[AppFactory]:
    """Start the app with settings overrides; every app started is shut down after the test."""
    running: list[tuple[asyncio.Event, asyncio.Task[None], httpx.AsyncClient]] = []

    async def start(database_url: str = customer_db, **overrides: Any) -> httpx.AsyncClient:
        overrides = {"redis_url": redis_url, "redis_prefix": revocation_prefix, **overrides}
        app = create_app(settings_for(database_url, **overrides), key_source=key_source())
        started, stop = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(_serve_lifespan(app, started, stop))
        await started.wait()
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        client = httpx.AsyncClient(transport=transport, base_url="http://customers.test", headers=bearer())
        running.append((stop, task, client))
        return client

    yield start
    for stop, task, client in reversed(running):
        await client.aclose()
        stop.set()
        await task


async def _serve_lifespan(app: Litestar, started: asyncio.Event, stop: asyncio.Event) -> None:
    """Start-up and shutdown in one task, as a server runs them (anyio requires it)."""
    async with app.lifespan():
        started.set()
        await stop.wait()


@pytest.fixture
async def api(make_api: AppFactory) -> httpx.AsyncClient:
    return await make_api()


@pytest.fixture
async def db(customer_db: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(customer_db)
    try:
        yield conn
    finally:
        await conn.close()
