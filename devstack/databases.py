"""Create databases on a PostgreSQL server: per-service databases for the stack, throwaway ones for tests."""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit, urlunsplit

import asyncpg

__all__ = ["create_database", "database_exists", "drop_database", "with_database"]


def with_database(server_url: str, name: str) -> str:
    """The same server URL, pointing at database ``name``."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def database_exists(server_url: str, name: str) -> bool:
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def create_database(server_url: str, name: str, *, template: str | None = None) -> str:
    """Create ``name`` unless it exists; return its URL."""
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            suffix = f" TEMPLATE {_quote(template)}" if template else ""
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):  # a concurrent starter won
                await conn.execute(f"CREATE DATABASE {_quote(name)}{suffix}")
    finally:
        await conn.close()
    return with_database(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
    finally:
        await conn.close()
