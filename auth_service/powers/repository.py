"""What an actor holds, read from roles, clients and the resource registry (asyncpg only)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

__all__ = ["PowersRepository"]

_USER_SCOPES = """
SELECT DISTINCT s FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id
CROSS JOIN unnest(r.scopes) AS s WHERE u.id = $1 AND u.status = 'active'
"""
_CLIENT = """
SELECT c.scopes,
       ARRAY(SELECT cr.resource FROM client_resources cr WHERE cr.client_id = c.client_id) AS resources
FROM oauth_clients c WHERE c.client_id = $1
"""
_OWNERS = "SELECT DISTINCT resource FROM resource_scopes WHERE scope = ANY($1::text[])"
_ALL = "SELECT scope FROM resource_scopes ORDER BY scope"
_KNOWN = "SELECT scope FROM resource_scopes WHERE scope = ANY($1::text[])"
_LOCK = "SELECT pg_advisory_xact_lock($1)"
# One key for every change that could leave nobody able to administer everything.
ADMINISTRATION_LOCK = 0x6175746861646D  # "authadm"


class PowersRepository:
    __slots__ = ()

    async def user_scopes(self, conn: asyncpg.Connection, user_id: UUID) -> set[str]:
        return {row[0] for row in await conn.fetch(_USER_SCOPES, user_id)}

    async def client_holdings(
        self, conn: asyncpg.Connection, client_id: str
    ) -> tuple[set[str], set[str]] | None:
        row = await conn.fetchrow(_CLIENT, client_id)
        return None if row is None else (set(row["scopes"]), set(row["resources"]))

    async def owners(self, conn: asyncpg.Connection, scopes: set[str]) -> set[str]:
        """The resource servers owning any of ``scopes``."""
        return {row[0] for row in await conn.fetch(_OWNERS, sorted(scopes))}

    async def known_scopes(self, conn: asyncpg.Connection, scopes: list[str]) -> set[str]:
        """Those of ``scopes`` some resource server owns."""
        return {row[0] for row in await conn.fetch(_KNOWN, scopes)}

    async def all_scopes(self, conn: asyncpg.Connection) -> set[str]:
        return {row[0] for row in await conn.fetch(_ALL)}

    async def lock_administration(self, conn: asyncpg.Connection) -> None:
        """Serialise, until the transaction ends, every change to who can administer."""
        await conn.execute(_LOCK, ADMINISTRATION_LOCK)
