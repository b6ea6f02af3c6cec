"""Real servers for every test: PostgreSQL and Redis from TEST_* URLs, else embedded ones.

Each test session creates its own uniquely named databases and drops them at the end; it never
touches a database it did not create. Redis keys live under a per-session namespace.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from devstack.databases import create_database, drop_database
from devstack.embedded import EmbeddedPostgres, EmbeddedRedis
from shared.db.migrate import apply_migrations
from tests.mail_server import MailServer

if TYPE_CHECKING:
    from tests.ecosystem import Ecosystem

ROOT = Path(__file__).resolve().parents[1]
SESSION_TAG = uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A PostgreSQL server URL (database ``postgres``) on which tests create their databases."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="test-pg-") as folder:
        server = EmbeddedPostgres(Path(folder) / "data")
        try:
            yield server.start()
        finally:
            server.stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    given = os.environ.get("TEST_REDIS_URL")
    if given:
        yield given
        return
    server = EmbeddedRedis()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def own_redis() -> Iterator[EmbeddedRedis]:
    """A Redis server of the test's own, for tests that stop, kill or restart it (never the
    shared one): the embedded one ``make run`` uses."""
    server = EmbeddedRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_namespace() -> str:
    """A key prefix no other run uses, so tests share a Redis without seeing each other's keys."""
    return f"test-{SESSION_TAG}"


def customer_revocation_env(redis_url: str, redis_namespace: str, name: str) -> dict[str, str]:
    """A customer-service process's revocation stream: the test Redis, under a prefix of its own
    (revocation checking is on by default, and an empty stream revokes nothing)."""
    return {"CUSTOMER_REDIS_URL": redis_url, "CUSTOMER_REDIS_PREFIX": f"{redis_namespace}:{name}:"}


@pytest.fixture
def smtp_server() -> Iterator[MailServer]:
    """A real SMTP server of the test's own (``tests/mail_server.py``): what was really sent."""
    server = MailServer().start()
    try:
        yield server
    finally:
        server.stop()


DatabaseFactory = Callable[[str], Awaitable[str]]


@pytest.fixture
async def make_database(pg_server_url: str) -> AsyncIterator[DatabaseFactory]:
    """Create uniquely named databases (optionally from a template); drop them after the test."""
    created: list[str] = []

    async def make(template: str = "") -> str:
        name = f"test_{SESSION_TAG}_{uuid.uuid4().hex[:8]}"
        created.append(name)
        return await create_database(pg_server_url, name, template=template or None)

    yield make
    for name in created:
        await drop_database(pg_server_url, name)


async def _migrated_template(server_url: str, service: str) -> AsyncIterator[str]:
    name = f"tmpl_{SESSION_TAG}_{service}"
    url = await create_database(server_url, name)
    await apply_migrations(url, ROOT / service / "migrations", service)
    try:
        yield name
    finally:
        await drop_database(server_url, name)


@pytest.fixture(scope="session")
async def auth_template(pg_server_url: str) -> AsyncIterator[str]:
    """A migrated auth database that per-test databases are cloned from (CREATE DATABASE ... TEMPLATE)."""
    async for name in _migrated_template(pg_server_url, "auth_service"):
        yield name


@pytest.fixture(scope="session")
async def customer_template(pg_server_url: str) -> AsyncIterator[str]:
    async for name in _migrated_template(pg_server_url, "customer_service"):
        yield name


@pytest.fixture
async def auth_db(make_database: DatabaseFactory, auth_template: str) -> str:
    """URL of a fresh, migrated auth database for this test."""
    return await make_database(auth_template)


@pytest.fixture
async def customer_db(make_database: DatabaseFactory, customer_template: str) -> str:
    return await make_database(customer_template)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long variants (marked ``slow``) run only under ``make test-long``."""
    run_slow = os.environ.get("RUN_SLOW") == "1"
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(pytest.mark.skip(reason="long variant: make test-long"))


__all__ = ["DatabaseFactory", "asyncio"]


EcosystemStarter = Callable[..., AbstractContextManager["Ecosystem"]]


@pytest.fixture(scope="session")
def start_ecosystem(
    pg_server_url: str,
    redis_url: str,
    redis_namespace: str,
    auth_template: str,
    customer_template: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> EcosystemStarter:
    """``running_ecosystem(name, **options)`` on this run's servers, templates and Redis (unless
    ``redis`` names another), with a log folder of its own."""
    from tests.ecosystem import running_ecosystem  # it imports this module: not at the top

    def start(name: str, *, redis: str | None = None, **options: Any) -> AbstractContextManager[Ecosystem]:
        return running_ecosystem(
            pg_server_url,
            (auth_template, customer_template),
            redis or redis_url,
            redis_namespace,
            Path(tmp_path_factory.mktemp(name)),
            name=name,
            **options,
        )

    return start
