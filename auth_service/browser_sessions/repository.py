"""The ``browser_sessions`` table (asyncpg only): a browser's single sign-on session.

The cookie holds a random secret and only its SHA-256 is stored, so a database dump opens no
session. The hot path (``current``, on every authorization request of the SSO round trip) is one
statement: a read of the live session that also touches ``last_seen_at``, but at most once a
minute, so a burst of requests writes one row version, not one per request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from auth_service.factors.repository import Assurance

__all__ = ["LIVE_SESSION", "BrowserSession", "BrowserSessionRepository", "SessionFamily", "StartEvent"]

TOUCH_EVERY_SECONDS = 60
_COLUMNS = """
id, user_id, floor(extract(epoch FROM auth_time))::bigint AS auth_time, amr, acr, created_at, last_seen_at,
expires_at, host(source_ip) AS source_ip, user_agent
"""
_LIVE = "ended_at IS NULL AND expires_at > now() AND last_seen_at > now() - make_interval(secs => $2)"
# A session starts with its audit events (``$9``: a JSON array of them) in one statement.
_START = f"""
WITH started AS (
    INSERT INTO browser_sessions (id, digest, user_id, auth_time, amr, acr, expires_at, source_ip, user_agent)
    VALUES ($1, $2, $3, now(), $4, $5, now() + make_interval(secs => $6), $7::inet, $8)
    RETURNING {_COLUMNS}
), recorded AS (
    INSERT INTO audit_events (action, outcome, actor, target_type, target_id, source_ip, details)
    SELECT e.action, 'success', e.actor, e.target_type, e.target_id, $7::inet, e.details
    FROM started, jsonb_to_recordset($9::jsonb)
         AS e(action text, actor text, target_type text, target_id text, details jsonb)
)
SELECT * FROM started
"""  # noqa: S608
# The user must still be active: a disabled account's sessions are ended too, this is the backstop.
# The person's second factors come along: the authorization endpoint asks whether one is due.
LIVE_SESSION = f"""
live AS (
    SELECT {_COLUMNS} FROM browser_sessions s
    WHERE s.digest = $1 AND {_LIVE}
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id AND u.status = 'active')
), touched AS (
    UPDATE browser_sessions b SET last_seen_at = now() FROM live
    WHERE b.id = live.id AND live.last_seen_at < now() - make_interval(secs => {TOUCH_EVERY_SECONDS})
)"""  # noqa: S608
"""The common table expressions of ``current`` ($1 the digest, $2 the idle lifetime), for a statement
that does more with the session it finds (``CodeRepository.create_in_session``)."""
_CURRENT = f"""
WITH {LIVE_SESSION}
SELECT live.*, f.totp, f.passkey, f.required FROM live JOIN second_factor_state f ON f.user_id = live.user_id
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
    assurance: Assurance | None = None
    """The person's second factors when the session was looked up (``current`` only)."""


class StartEvent(msgspec.Struct, frozen=True):
    """An audit event (a success) written with a session's start."""

    action: str
    actor: str
    target_type: str
    target_id: str
    details: dict[str, Any]


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
        session_id: UUID,
        *,
        digest: bytes,
        user_id: UUID,
        amr: list[str],
        acr: str,
        max_ttl: int,
        source_ip: str | None,
        user_agent: str | None,
        events: list[StartEvent],
    ) -> BrowserSession:
        """Inserts the session and ``events`` (as ``AuditTrail.record`` would, from ``source_ip``)."""
        row = await conn.fetchrow(
            _START, session_id, digest, user_id, amr, acr, max_ttl, source_ip, user_agent,
            msgspec.json.encode(events).decode(),
        )  # fmt: skip
        assert row is not None  # an INSERT ... RETURNING always returns its row
        return BrowserSession(**dict(row))

    async def current(self, conn: asyncpg.Connection, digest: bytes, idle_ttl: int) -> BrowserSession | None:
        row = await conn.fetchrow(_CURRENT, digest, idle_ttl)
        if row is None:
            return None
        fields = dict(row)
        assurance = Assurance(fields.pop("totp"), fields.pop("passkey"), fields.pop("required"))
        return BrowserSession(**fields, assurance=assurance)

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
