"""The ``oauth_clients`` table (asyncpg only). One query per token request: ``get``.

A taken ``client_id`` is ``ClientExists``.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from auth_service.errors import ClientExists

__all__ = ["ClientRecord", "ClientRepository"]

_COLUMNS = "client_id, client_name, secret_digest, grant_types, scopes, created_at, updated_at"
_GET = f"SELECT {_COLUMNS} FROM oauth_clients WHERE client_id = $1"  # noqa: S608
_LIST = f"""
SELECT {_COLUMNS} FROM oauth_clients WHERE ($1::text IS NULL OR client_id > $1) ORDER BY client_id LIMIT $2
"""  # noqa: S608
_INSERT = f"""
INSERT INTO oauth_clients (client_id, client_name, secret_digest, grant_types, scopes)
VALUES ($1, $2, $3, $4, $5) RETURNING {_COLUMNS}
"""  # noqa: S608
_UPDATE = f"""
UPDATE oauth_clients SET client_name = coalesce($2, client_name), grant_types = coalesce($3, grant_types),
                         scopes = coalesce($4, scopes), updated_at = now()
WHERE client_id = $1 RETURNING {_COLUMNS}
"""  # noqa: S608
_SET_SECRET = "UPDATE oauth_clients SET secret_digest = $2, updated_at = now() WHERE client_id = $1"  # noqa: S105
_DELETE = "DELETE FROM oauth_clients WHERE client_id = $1"


class ClientRecord(msgspec.Struct, frozen=True):
    client_id: str
    client_name: str
    secret_digest: bytes | None
    grant_types: list[str]
    scopes: list[str]
    created_at: datetime
    updated_at: datetime

    @property
    def confidential(self) -> bool:
        return self.secret_digest is not None


def _record(row: asyncpg.Record | None) -> ClientRecord | None:
    return None if row is None else ClientRecord(**dict(row))


class ClientRepository:
    __slots__ = ()

    async def get(self, conn: asyncpg.Connection, client_id: str) -> ClientRecord | None:
        return _record(await conn.fetchrow(_GET, client_id))

    async def page(self, conn: asyncpg.Connection, after: str | None, limit: int) -> list[ClientRecord]:
        return [ClientRecord(**dict(r)) for r in await conn.fetch(_LIST, after, limit)]

    async def insert(
        self,
        conn: asyncpg.Connection,
        *,
        client_id: str,
        client_name: str,
        secret_digest: bytes | None,
        grant_types: list[str],
        scopes: list[str],
    ) -> ClientRecord:
        try:
            record = _record(
                await conn.fetchrow(_INSERT, client_id, client_name, secret_digest, grant_types, scopes)
            )
        except asyncpg.UniqueViolationError:
            raise ClientExists(client_id) from None
        assert record is not None
        return record

    async def update(
        self,
        conn: asyncpg.Connection,
        client_id: str,
        *,
        client_name: str | None,
        grant_types: list[str] | None,
        scopes: list[str] | None,
    ) -> ClientRecord | None:
        return _record(await conn.fetchrow(_UPDATE, client_id, client_name, grant_types, scopes))

    async def set_secret(self, conn: asyncpg.Connection, client_id: str, secret_digest: bytes) -> bool:
        return await conn.execute(_SET_SECRET, client_id, secret_digest) == "UPDATE 1"

    async def delete(self, conn: asyncpg.Connection, client_id: str) -> bool:
        return await conn.execute(_DELETE, client_id) == "DELETE 1"
