"""The ``password_resets`` table (asyncpg only): links stored as the SHA-256 of their secret.

A link is bound to the password it replaces: it copies ``users.password_changed_at`` when it is
made and is good only while the account's is still the same, so any password change since (by
the person, an admin, or another link) voids it. Times come from the service's clock.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

__all__ = ["PasswordResetRepository", "PendingReset"]

_FORGET_SPENT = """
DELETE FROM password_resets WHERE user_id = $1 AND (used_at IS NOT NULL OR expires_at <= to_timestamp($2))
"""
_INSERT = """
INSERT INTO password_resets (digest, user_id, password_changed_at, created_at, expires_at, source_ip)
SELECT $1, id, password_changed_at, to_timestamp($3), to_timestamp($4), $5::inet FROM users WHERE id = $2
"""
# A link is good while unused, unexpired, and the password is the one it was made for.
_PENDING = """
SELECT r.user_id, u.email::text AS email FROM password_resets r JOIN users u ON u.id = r.user_id
WHERE r.digest = $1 AND r.used_at IS NULL AND r.expires_at > to_timestamp($2)
  AND u.password_changed_at = r.password_changed_at AND u.status = 'active'
"""
# The account's row is locked first, so no other password change lands between the check and
# the new password: the link is spent only against the password it was made for.
_LOCK_ACCOUNT = """
SELECT u.id FROM users u JOIN password_resets r ON r.user_id = u.id WHERE r.digest = $1 FOR UPDATE OF u
"""
_USE = """
UPDATE password_resets r SET used_at = to_timestamp($2) FROM users u
WHERE r.digest = $1 AND u.id = r.user_id AND r.used_at IS NULL AND r.expires_at > to_timestamp($2)
  AND u.password_changed_at = r.password_changed_at AND u.status = 'active'
RETURNING r.user_id, u.email::text AS email
"""


class PendingReset(msgspec.Struct, frozen=True):
    user_id: UUID
    email: str


class PasswordResetRepository:
    __slots__ = ()

    async def insert(
        self,
        conn: asyncpg.Connection,
        digest: bytes,
        user_id: UUID,
        now: float,
        expires: float,
        source_ip: str | None,
    ) -> None:
        """A new link; the account's used and expired ones go (a user never holds many rows)."""
        await conn.execute(_FORGET_SPENT, user_id, now)
        await conn.execute(_INSERT, digest, user_id, now, expires, source_ip)

    async def pending(self, conn: asyncpg.Connection, digest: bytes, now: float) -> PendingReset | None:
        row = await conn.fetchrow(_PENDING, digest, now)
        return None if row is None else PendingReset(**dict(row))

    async def use(self, conn: asyncpg.Connection, digest: bytes, now: float) -> PendingReset | None:
        """Spend the link (in the caller's transaction, the account locked until it ends)."""
        await conn.execute(_LOCK_ACCOUNT, digest)
        row = await conn.fetchrow(_USE, digest, now)
        return None if row is None else PendingReset(**dict(row))
