"""The ``email_verifications`` table (asyncpg only): links stored as the SHA-256 of their secret.

Times come from the service's clock (``to_timestamp``), so tests move them without waiting.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

__all__ = ["PendingVerification", "VerificationRepository"]

_FORGET_SPENT = """
DELETE FROM email_verifications
WHERE user_id = $1 AND (used_at IS NOT NULL OR expires_at <= to_timestamp($2))
"""
_INSERT = """
INSERT INTO email_verifications (digest, user_id, email, created_at, expires_at)
VALUES ($1, $2, $3, to_timestamp($4), to_timestamp($5))
"""
# A link is good while unused, unexpired, and its address is still the active account's.
_PENDING = """
SELECT v.user_id, u.email::text AS email, u.email_verified
FROM email_verifications v JOIN users u ON u.id = v.user_id
WHERE v.digest = $1 AND v.used_at IS NULL AND v.expires_at > to_timestamp($2)
  AND u.email = v.email AND u.status = 'active'
"""
_USE = """
UPDATE email_verifications v SET used_at = to_timestamp($2) FROM users u
WHERE v.digest = $1 AND u.id = v.user_id AND v.used_at IS NULL AND v.expires_at > to_timestamp($2)
  AND u.email = v.email AND u.status = 'active'
RETURNING v.user_id, u.email::text AS email, u.email_verified
"""
_VERIFY = "UPDATE users SET email_verified = true, updated_at = now() WHERE id = $1 AND email = $2"


class PendingVerification(msgspec.Struct, frozen=True):
    user_id: UUID
    email: str
    email_verified: bool
    """Already verified (by another link, or an admin): confirming again changes nothing."""


class VerificationRepository:
    __slots__ = ()

    async def insert(
        self, conn: asyncpg.Connection, digest: bytes, user_id: UUID, email: str, now: float, expires: float
    ) -> None:
        """A new link; the account's used and expired ones go (a user never holds many rows)."""
        await conn.execute(_FORGET_SPENT, user_id, now)
        await conn.execute(_INSERT, digest, user_id, email, now, expires)

    async def pending(
        self, conn: asyncpg.Connection, digest: bytes, now: float
    ) -> PendingVerification | None:
        row = await conn.fetchrow(_PENDING, digest, now)
        return None if row is None else PendingVerification(**dict(row))

    async def use(self, conn: asyncpg.Connection, digest: bytes, now: float) -> PendingVerification | None:
        """Spend the link (once: a second use finds it used) and mark its address verified."""
        row = await conn.fetchrow(_USE, digest, now)
        if row is None:
            return None
        used = PendingVerification(**dict(row))
        await conn.execute(_VERIFY, used.user_id, used.email)
        return used
