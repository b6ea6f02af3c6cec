"""The ``consents`` table (asyncpg only): one row per user and client, the scopes allowed so far.

Remembering merges: a consent only ever grows by what the person allowed on the consent page, so
an app asking again for a subset is not asked twice, and one asking for more is asked for it.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from asyncpg import Connection

__all__ = ["Consent", "ConsentRepository"]

_COVERS = "SELECT scopes @> $3::text[] FROM consents WHERE user_id = $1 AND client_id = $2"
_REMEMBER = """
INSERT INTO consents AS c (user_id, client_id, scopes) VALUES ($1, $2, $3::text[])
ON CONFLICT (user_id, client_id) DO UPDATE
SET scopes = ARRAY(SELECT DISTINCT s FROM unnest(c.scopes || EXCLUDED.scopes) AS s ORDER BY s),
    updated_at = now()
"""
_OF_USER = """
SELECT c.client_id, o.client_name, c.scopes, c.granted_at, c.updated_at
FROM consents c JOIN oauth_clients o ON o.client_id = c.client_id
WHERE c.user_id = $1 ORDER BY c.updated_at DESC, c.client_id LIMIT 500
"""
_REVOKE = "DELETE FROM consents WHERE user_id = $1 AND client_id = $2 RETURNING client_id"


class Consent(msgspec.Struct, frozen=True):
    client_id: str
    client_name: str
    scopes: list[str]
    granted_at: datetime
    updated_at: datetime


class ConsentRepository:
    __slots__ = ()

    async def covers(self, conn: Connection, user_id: UUID, client_id: str, scopes: list[str]) -> bool:
        return bool(await conn.fetchval(_COVERS, user_id, client_id, scopes))

    async def remember(self, conn: Connection, user_id: UUID, client_id: str, scopes: list[str]) -> None:
        await conn.execute(_REMEMBER, user_id, client_id, sorted(set(scopes)))

    async def of_user(self, conn: Connection, user_id: UUID) -> list[Consent]:
        return [Consent(**dict(r)) for r in await conn.fetch(_OF_USER, user_id)]

    async def revoke(self, conn: Connection, user_id: UUID, client_id: str) -> bool:
        return await conn.fetchval(_REVOKE, user_id, client_id) is not None
