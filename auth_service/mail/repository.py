"""The ``mail_outbox`` table (asyncpg only): queue, claim, and record each delivery's outcome.

Times are the database's (``now()``): every replica shares one clock for leases and retries.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

__all__ = ["ClaimedMail", "OutboxRepository", "OutboxRow"]

_INSERT = """
INSERT INTO mail_outbox (id, kind, recipient, user_id, message) VALUES ($1, $2, $3, $4, $5)
"""
# Due rows, oldest first, that no other sender holds; each is leased (next_attempt_at moves past
# the time a delivery may take) and its attempt counted before any SMTP is spoken.
_CLAIM = """
WITH due AS (
    SELECT id FROM mail_outbox
    WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
    ORDER BY next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE mail_outbox m
SET attempts = m.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
FROM due WHERE m.id = due.id
RETURNING m.id, m.kind, m.recipient, m.message, m.attempts
"""
_SENT = """
UPDATE mail_outbox SET sent_at = now(), message = NULL, last_error = NULL WHERE id = $1 AND sent_at IS NULL
"""
_RETRY = """
UPDATE mail_outbox SET last_error = $2, next_attempt_at = now() + make_interval(secs => $3)
WHERE id = $1 AND sent_at IS NULL
"""
_PENDING_SEALED = """
SELECT id, message FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL ORDER BY id FOR UPDATE
"""
_REPLACE_SEALED = "UPDATE mail_outbox SET message = $2 WHERE id = $1"
_GIVE_UP = "UPDATE mail_outbox SET last_error = $2, failed_at = now() WHERE id = $1 AND sent_at IS NULL"
_FORGET_SENT = "DELETE FROM mail_outbox WHERE sent_at < now() - make_interval(days => $1)"
_BY_USER = """
SELECT id, kind, recipient, created_at, attempts, last_error, sent_at, failed_at
FROM mail_outbox WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2
"""


class ClaimedMail(msgspec.Struct, frozen=True):
    id: UUID
    kind: str
    recipient: str
    message: bytes
    """Sealed under the key-encryption key, the row's id as associated data."""
    attempts: int
    """This one included."""


class OutboxRow(msgspec.Struct, frozen=True):
    """A message as an operator looks at it: what and to whom, never its content."""

    id: UUID
    kind: str
    recipient: str
    created_at: datetime
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    failed_at: datetime | None


class OutboxRepository:
    __slots__ = ()

    async def insert(
        self,
        conn: asyncpg.Connection,
        mail_id: UUID,
        kind: str,
        recipient: str,
        user_id: UUID | None,
        sealed: bytes,
    ) -> None:
        await conn.execute(_INSERT, mail_id, kind, recipient, user_id, sealed)

    async def claim(self, conn: asyncpg.Connection, limit: int, lease_seconds: float) -> list[ClaimedMail]:
        return [ClaimedMail(**dict(row)) for row in await conn.fetch(_CLAIM, limit, lease_seconds)]

    async def sent(self, conn: asyncpg.Connection, mail_id: UUID) -> None:
        await conn.execute(_SENT, mail_id)

    async def retry(self, conn: asyncpg.Connection, mail_id: UUID, error: str, after_seconds: float) -> None:
        await conn.execute(_RETRY, mail_id, error, after_seconds)

    async def give_up(self, conn: asyncpg.Connection, mail_id: UUID, error: str) -> None:
        await conn.execute(_GIVE_UP, mail_id, error)

    async def forget_sent(self, conn: asyncpg.Connection, days: int) -> int:
        """Delete the records of messages sent more than ``days`` ago; how many."""
        return int((await conn.execute(_FORGET_SENT, days)).split()[-1])

    async def for_user(self, conn: asyncpg.Connection, user_id: UUID, limit: int = 50) -> list[OutboxRow]:
        return [OutboxRow(**dict(row)) for row in await conn.fetch(_BY_USER, user_id, limit)]

    async def pending_sealed(self, conn: asyncpg.Connection) -> list[tuple[UUID, bytes]]:
        """Every message still to be delivered, sealed, locked until the transaction ends."""
        return [(row["id"], row["message"]) for row in await conn.fetch(_PENDING_SEALED)]

    async def replace_sealed(self, conn: asyncpg.Connection, mail_id: UUID, sealed: bytes) -> None:
        await conn.execute(_REPLACE_SEALED, mail_id, sealed)
