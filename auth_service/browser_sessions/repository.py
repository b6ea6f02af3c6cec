"""The ``browser_sessions`` table (asyncpg only): a browser's single sign-on session.

The cookie holds a random secret and only its SHA-256 is stored, so a database dump opens no
session. The hot path (``current``, on every authorization request of the SSO round trip) is one
statement: a read of the live session that also touches ``last_seen_at``, but at most once a
minute, so a burst of requests writes one row version, not one per request.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

__all__ = ["BrowserSession", "BrowserSessionRepository", "SessionFamily"]

TOUCH_EVERY_SECONDS = 60
_COLUMNS = """
id, user_id, floor(extract(epoch FROM auth_time))::bigint AS auth_time, amr, acr, created_at, last_seen_at,
expires_at, host(source_ip) AS source_ip, user_agent
"""
_LIVE = "ended_at IS NULL AND expires_at > now() AND last_seen_at > now() - make_interval(secs => $2)"
_START = f"""
INSERT INTO browser_sessions (digest, user_id, auth_time, amr, acr, expires_at, source_ip, user_agent)
VALUES ($1, $2, now(), $3, $4, now() + make_interval(secs => $5), $6::inet, $7)
RETURNING {_COLUMNS}
"""  # noqa: S608
# The user must still be active: a disabled account's sessions are ended too, this is the backstop.
_CURRENT = f"""
WITH live AS (
    SELECT {_COLUMNS} FROM browser_sessions s
    WHERE s.digest = $1 AND {_LIVE}
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id AND u.status = 'active')
), touched AS (
    UPDATE browser_sessions b SET last_seen_at = now() FROM live
    WHERE b.id = live.id AND live.last_seen_at < now() - make_interval(secs => {TOUCH_EVERY_SECONDS})
)
SELECT * FROM live
"""  # noqa: S608
_GET = f"SELECT {_COLUMNS} FROM browser_sessions WHERE id = $1 AND {_LIVE}"  # noqa: S608
_FOR_USER = f"""
SELECT {_COLUMNS} FROM browser_sessions WHERE user_id = $1 AND {_LIVE}
ORDER BY created_at DESC LIMIT 500
"""  # noqa: S608
_END = """
UPDATE browser_sessions SET ended_at = now(), ended_reason = $2
WHERE id = $1 AND ended_at IS NULL RETURNING user_id
"""
_END_USER = """
UPDATE browser_sessions SET ended_at = now(), ended_reason = $2
WHERE user_id = $1 AND ended_at IS NULL RETURNING id
"""
_FAMILIES = """
SELECT id, client_id, revoked_at IS NULL AS live FROM refresh_families
WHERE browser_session_id = $1 ORDER BY created_at
"""
_MOVE_FAMILIES = "UPDATE refresh_families SET browser_session_id = $2 WHERE browser_session_id = $1"


class BrowserSession(msgspec.Struct, frozen=True):
    """A live session; ``auth_time`` is when its login happened (Unix seconds), as ID tokens carry it."""

    id: UUID
    user_id: UUID
    auth_time: int
    amr: list[str]
    acr: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    source_ip: str | None
    user_agent: str | None


class SessionFamily(msgspec.Struct, frozen=True):
    """A refresh-token family this browser session created (``live``: not revoked yet)."""

    id: UUID
    client_id: str
    live: bool


class BrowserSessionRepository:
    __slots__ = ()

    async def start(
        self,
        conn: asyncpg.Connection,
        *,
        digest: bytes,
        user_id: UUID,
        amr: list[str],
        acr: str,
        max_ttl: int,
        source_ip: str | None,
        user_agent: str | None,
    ) -> BrowserSession:
        row = await conn.fetchrow(_START, digest, user_id, amr, acr, max_ttl, source_ip, user_agent)
        assert row is not None  # an INSERT ... RETURNING always returns its row
        return BrowserSession(**dict(row))

    async def current(self, conn: asyncpg.Connection, digest: bytes, idle_ttl: int) -> BrowserSession | None:
        row = await conn.fetchrow(_CURRENT, digest, idle_ttl)
        return None if row is None else BrowserSession(**dict(row))

    async def get(self, conn: asyncpg.Connection, session_id: UUID, idle_ttl: int) -> BrowserSession | None:
        row = await conn.fetchrow(_GET, session_id, idle_ttl)
        return None if row is None else BrowserSession(**dict(row))

    async def for_user(self, conn: asyncpg.Connection, user_id: UUID, idle_ttl: int) -> list[BrowserSession]:
        return [BrowserSession(**dict(r)) for r in await conn.fetch(_FOR_USER, user_id, idle_ttl)]

    async def end(self, conn: asyncpg.Connection, session_id: UUID, reason: str) -> UUID | None:
        """Marks it ended; its user's id, or ``None`` when unknown or ended already."""
        user_id: UUID | None = await conn.fetchval(_END, session_id, reason)
        return user_id

    async def families(self, conn: asyncpg.Connection, session_id: UUID) -> list[SessionFamily]:
        return [SessionFamily(**dict(r)) for r in await conn.fetch(_FAMILIES, session_id)]

    async def end_for_user(self, conn: asyncpg.Connection, user_id: UUID, reason: str) -> list[UUID]:
        """Ends every session of the user; their families are the caller's to revoke."""
        return [r["id"] for r in await conn.fetch(_END_USER, user_id, reason)]

    async def move_families(self, conn: asyncpg.Connection, old: UUID, new: UUID) -> None:
        await conn.execute(_MOVE_FAMILIES, old, new)
