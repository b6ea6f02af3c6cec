"""Numbered SQL migrations, applied in order, each in its own transaction, once across replicas.

Several replicas may start at once: each takes a PostgreSQL advisory lock (keyed by the service
name) before reading ``schema_migrations``, so the second waits while the first applies, then finds
nothing left to do. A migration that fails rolls back whole (its transaction also holds the insert
into ``schema_migrations``) and stops start-up with ``MigrationError``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

__all__ = ["Migration", "MigrationError", "apply_migrations", "discover_migrations"]

log = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


class MigrationError(RuntimeError):
    """A migration could not be applied; the database is as it was before it."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover_migrations(folder: Path) -> list[Migration]:
    """Read ``NNNN_name.sql`` files; any other ``.sql`` name or a repeated number is an error."""
    migrations: dict[int, Migration] = {}
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_lowercase_name.sql")
        version = int(match.group(1))
        if version in migrations:
            raise MigrationError(f"{path.name}: version {version} is used twice")
        migrations[version] = Migration(version, match.group(2), path.read_text(encoding="utf-8"))
    return [migrations[v] for v in sorted(migrations)]


def _lock_key(service: str) -> int:
    """A stable signed 64-bit advisory-lock key per service."""
    return int.from_bytes(hashlib.sha256(f"migrate:{service}".encode()).digest()[:8], "big", signed=True)


async def apply_migrations(dsn: str, folder: Path, service: str) -> list[int]:
    """Apply what is missing; return the versions applied by this call."""
    migrations = discover_migrations(folder)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _lock_key(service))
        try:
            await conn.execute(_CREATE_TABLE)
            rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
            applied = {row["version"]: row["checksum"] for row in rows}
            done: list[int] = []
            for migration in migrations:
                if migration.version in applied:
                    if applied[migration.version] != migration.checksum:
                        log.warning(
                            "migration %04d_%s changed after it was applied",
                            migration.version,
                            migration.name,
                        )
                    continue
                await _apply_one(conn, migration)
                done.append(migration.version)
            return done
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _lock_key(service))
    finally:
        await conn.close()


async def _apply_one(conn: asyncpg.Connection, migration: Migration) -> None:
    label = f"{migration.version:04d}_{migration.name}"
    try:
        async with conn.transaction():
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.checksum,
            )
    except asyncpg.PostgresError as exc:
        raise MigrationError(f"migration {label} failed and was rolled back: {exc}") from exc
    log.info("applied migration %s", label)
