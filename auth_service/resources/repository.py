"""The ``resource_servers`` and ``resource_scopes`` tables (asyncpg only).

A scope's primary key is the scope itself, so the database keeps "one owner per scope"; a taken
identifier is ``ResourceServerExists``, a scope owned elsewhere ``ScopeTaken``.
"""

from __future__ import annotations

import asyncpg

from auth_service.errors import ResourceServerExists, ScopeTaken
from auth_service.resources.schemas import ResourceServer

__all__ = ["ResourceServerRepository"]

_COLUMNS = """rs.identifier, rs.name, rs.access_token_ttl, rs.managed, rs.created_at, rs.updated_at,
ARRAY(SELECT s.scope FROM resource_scopes s WHERE s.resource = rs.identifier ORDER BY s.scope) AS scopes"""
_LIST = f"SELECT {_COLUMNS} FROM resource_servers rs ORDER BY rs.identifier"  # noqa: S608
_GET = f"SELECT {_COLUMNS} FROM resource_servers rs WHERE rs.identifier = $1"  # noqa: S608
_GET_FOR_UPDATE = f"{_GET} FOR UPDATE"
_INSERT = "INSERT INTO resource_servers (identifier, name, access_token_ttl) VALUES ($1, $2, $3)"
_UPDATE = """
UPDATE resource_servers SET name = coalesce($2, name),
       access_token_ttl = CASE WHEN $3 THEN $4 ELSE access_token_ttl END, updated_at = now()
WHERE identifier = $1
"""
_DELETE = "DELETE FROM resource_servers WHERE identifier = $1"
_ADD_SCOPES = "INSERT INTO resource_scopes (scope, resource) SELECT unnest($2::text[]), $1"
_DROP_SCOPES = "DELETE FROM resource_scopes WHERE resource = $1 AND scope = ANY($2::text[])"
_OWNED_ELSEWHERE = (
    "SELECT scope FROM resource_scopes WHERE scope = ANY($2::text[]) AND resource <> $1 ORDER BY scope"
)
_HELD = """
SELECT s FROM (SELECT unnest(scopes) AS s FROM roles UNION SELECT unnest(scopes) FROM oauth_clients) AS held
WHERE s = ANY($1::text[]) ORDER BY s
"""

# Roles holding every admin scope ("administer everything") hold every resource's scopes too.
_GIVE_TO_FULL_ADMINS = """
UPDATE roles SET scopes = ARRAY(SELECT DISTINCT s FROM unnest(scopes || $1::text[]) AS s ORDER BY s),
                 updated_at = now()
WHERE scopes @> $2::text[]
"""
_TAKE_FROM_FULL_ADMINS = """
UPDATE roles SET scopes = ARRAY(SELECT s FROM unnest(scopes) AS s WHERE s <> ALL ($1::text[]) ORDER BY s),
                 updated_at = now()
WHERE scopes @> $2::text[] AND scopes && $1::text[]
"""


def _server(row: asyncpg.Record | None) -> ResourceServer | None:
    return None if row is None else ResourceServer(**dict(row))


class ResourceServerRepository:
    __slots__ = ()

    async def all(self, conn: asyncpg.Connection) -> list[ResourceServer]:
        return [ResourceServer(**dict(r)) for r in await conn.fetch(_LIST)]

    async def get(
        self, conn: asyncpg.Connection, identifier: str, *, for_update: bool = False
    ) -> ResourceServer | None:
        return _server(await conn.fetchrow(_GET_FOR_UPDATE if for_update else _GET, identifier))

    async def insert(
        self, conn: asyncpg.Connection, identifier: str, name: str, ttl: int | None, scopes: list[str]
    ) -> ResourceServer:
        """Raises ``ResourceServerExists`` or ``ScopeTaken`` (call inside a transaction)."""
        try:
            await conn.execute(_INSERT, identifier, name, ttl)
        except asyncpg.UniqueViolationError:
            raise ResourceServerExists(identifier) from None
        await self.add_scopes(conn, identifier, scopes)
        server = await self.get(conn, identifier)
        assert server is not None
        return server

    async def update(
        self, conn: asyncpg.Connection, identifier: str, *, name: str | None, ttl: tuple[bool, int | None]
    ) -> None:
        """``ttl`` is (whether to set it, the value: ``None`` for the default lifetime)."""
        await conn.execute(_UPDATE, identifier, name, ttl[0], ttl[1])

    async def add_scopes(self, conn: asyncpg.Connection, identifier: str, scopes: list[str]) -> None:
        """Raises ``ScopeTaken`` naming those another resource server owns."""
        if not scopes:
            return
        taken = [r[0] for r in await conn.fetch(_OWNED_ELSEWHERE, identifier, scopes)]
        if taken:
            raise ScopeTaken(taken)
        try:
            await conn.execute(_ADD_SCOPES, identifier, scopes)
        except asyncpg.UniqueViolationError:  # registered elsewhere since the check above
            raise ScopeTaken() from None

    async def drop_scopes(self, conn: asyncpg.Connection, identifier: str, scopes: list[str]) -> None:
        await conn.execute(_DROP_SCOPES, identifier, scopes)

    async def give_to_full_admins(
        self, conn: asyncpg.Connection, scopes: list[str], admin_scopes: list[str]
    ) -> None:
        if scopes:
            await conn.execute(_GIVE_TO_FULL_ADMINS, scopes, admin_scopes)

    async def take_from_full_admins(
        self, conn: asyncpg.Connection, scopes: list[str], admin_scopes: list[str]
    ) -> None:
        if scopes:
            await conn.execute(_TAKE_FROM_FULL_ADMINS, scopes, admin_scopes)

    async def held(self, conn: asyncpg.Connection, scopes: list[str]) -> list[str]:
        """Those of ``scopes`` some role or client holds."""
        return [r[0] for r in await conn.fetch(_HELD, scopes)]

    async def delete(self, conn: asyncpg.Connection, identifier: str) -> bool:
        return await conn.execute(_DELETE, identifier) == "DELETE 1"
