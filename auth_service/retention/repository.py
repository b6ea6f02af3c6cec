"""The purge's statements (asyncpg only): each removes at most one batch, so no lock is held long.

Every candidate row is taken ``FOR UPDATE SKIP LOCKED``: a row some request holds is left for the
next round instead of making the purge wait (or the request wait for the purge).
"""

from __future__ import annotations

from datetime import datetime

from shared.db.pool import Connection

__all__ = ["LOGIN_TABLES", "PURGE_ACTION", "PURGE_LOCK", "RetentionRepository"]

PURGE_LOCK = 0x61757468_70757267  # "authpurg": one purge at a time, whichever replica or CLI runs it
PURGE_ACTION = "retention.purge"
"""The audit action of a purge; the newest one also says when the last purge ran."""

_TRY_LOCK = "SELECT pg_try_advisory_xact_lock($1)"
_PURGED_SINCE = """
SELECT coalesce((SELECT occurred_at >= $2 FROM audit_events WHERE action = $1 ORDER BY id DESC LIMIT 1),
                false)
"""
_TOKENS_OF_ENDED_SESSIONS = """
DELETE FROM refresh_tokens WHERE digest IN (
    SELECT t.digest FROM refresh_families f JOIN refresh_tokens t ON t.family_id = f.id
    WHERE f.expires_at < $1 OR f.revoked_at < $1 LIMIT $2 FOR UPDATE OF t SKIP LOCKED
)
"""
_ENDED_SESSIONS = """
DELETE FROM refresh_families WHERE id IN (
    SELECT id FROM refresh_families WHERE expires_at < $1 OR revoked_at < $1 LIMIT $2
    FOR UPDATE SKIP LOCKED
)
"""
_EXPIRED_TOKENS = """
DELETE FROM refresh_tokens WHERE digest IN (
    SELECT digest FROM refresh_tokens WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED
)
"""
_SPENT_REVOCATIONS = """
DELETE FROM revocations WHERE id IN (
    SELECT id FROM revocations WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED
)
"""
_OLD_AUDIT_EVENTS = """
DELETE FROM audit_events WHERE id IN (
    SELECT id FROM audit_events WHERE occurred_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED
)
"""
_SEALED_SUCCESSORS = """
UPDATE refresh_tokens SET successor_sealed = NULL WHERE digest IN (
    SELECT digest FROM refresh_tokens WHERE successor_sealed IS NOT NULL AND used_at < $1 LIMIT $2
    FOR UPDATE SKIP LOCKED
)
"""
# The browser front door's rows, each gone once past ``$1`` (the purge's cutoff: a day after the
# row expired or, for a browser session, ended). Deleting a browser session nulls the link of its
# families and device authorizations and removes its codes and pending requests (foreign keys).
_LOGIN_ROWS = {
    "pending_logins": ("digest", "expires_at < $1"),
    "authorization_requests": ("id", "expires_at < $1"),
    "authorization_codes": ("digest", "expires_at < $1"),
    "device_authorizations": ("device_digest", "expires_at < $1"),
    "webauthn_challenges": ("digest", "expires_at < $1"),
    "webauthn_spent_challenges": ("digest", "expires_at < $1"),
    "browser_sessions": ("id", "ended_at < $1 OR expires_at < $1"),
}
_PURGE_LOGIN_ROWS = {
    table: f"""
DELETE FROM {table} WHERE {key} IN (
    SELECT {key} FROM {table} WHERE {expired} LIMIT $2 FOR UPDATE SKIP LOCKED
)
"""  # noqa: S608
    for table, (key, expired) in _LOGIN_ROWS.items()
}
LOGIN_TABLES = tuple(_LOGIN_ROWS)
"""The tables ``expired_login_rows`` may purge, in a safe order (children before parents)."""


def _count(status: str) -> int:
    """Rows an asyncpg status line (``DELETE 12``, ``UPDATE 3``) reports."""
    return int(status.rsplit(" ", 1)[-1])


class RetentionRepository:
    __slots__ = ()

    async def try_lock(self, conn: Connection) -> bool:
        """Held until the caller's transaction ends; ``False`` if another purge holds it."""
        locked: bool = await conn.fetchval(_TRY_LOCK, PURGE_LOCK)
        return locked

    async def purged_since(self, conn: Connection, since: datetime) -> bool:
        purged: bool = await conn.fetchval(_PURGED_SINCE, PURGE_ACTION, since)
        return purged

    async def tokens_of_ended_sessions(self, conn: Connection, ended_before: datetime, batch: int) -> int:
        """Refresh tokens of sessions that expired or were revoked before ``ended_before``."""
        return _count(await conn.execute(_TOKENS_OF_ENDED_SESSIONS, ended_before, batch))

    async def ended_sessions(self, conn: Connection, ended_before: datetime, batch: int) -> int:
        return _count(await conn.execute(_ENDED_SESSIONS, ended_before, batch))

    async def expired_tokens(self, conn: Connection, expired_before: datetime, batch: int) -> int:
        """Refresh tokens (used or not) of live sessions that expired before ``expired_before``."""
        return _count(await conn.execute(_EXPIRED_TOKENS, expired_before, batch))

    async def spent_revocations(self, conn: Connection, expired_before: datetime, batch: int) -> int:
        return _count(await conn.execute(_SPENT_REVOCATIONS, expired_before, batch))

    async def old_audit_events(self, conn: Connection, before: datetime, batch: int) -> int:
        return _count(await conn.execute(_OLD_AUDIT_EVENTS, before, batch))

    async def expired_login_rows(self, conn: Connection, before: datetime, batch: int, *, table: str) -> int:
        """One batch of ``table`` (one of ``LOGIN_TABLES``, never caller text) past ``before``."""
        return _count(await conn.execute(_PURGE_LOGIN_ROWS[table], before, batch))

    async def sealed_successors(self, conn: Connection, used_before: datetime, batch: int) -> int:
        """Forget the sealed successor of tokens used before ``used_before`` (past the reuse grace)."""
        return _count(await conn.execute(_SEALED_SUCCESSORS, used_before, batch))
