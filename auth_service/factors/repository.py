"""The second factors' tables (asyncpg only): TOTP credentials, recovery codes, the role policy.

Every check that must not race is one conditional statement: a TOTP step is accepted only if it is
later than the last one (``use_totp``), an enrolment confirmed only while unconfirmed and fresh,
a recovery code spent only if unspent, so two requests with the same code cannot both succeed.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

__all__ = ["Assurance", "FactorRepository", "RecoverySummary", "SealedBlob", "TotpRecord"]

_TOTP_COLUMNS = "user_id, sealed_secret, confirmed, last_used_step, created_at, confirmed_at, last_used_at"
_TOTP = f"SELECT {_TOTP_COLUMNS} FROM totp_credentials WHERE user_id = $1"  # noqa: S608
# A new secret, unless one is confirmed or an unconfirmed one is younger than $3 seconds (then the
# page shows the same QR code again on a reload); either way the row is read back by the caller.
_BEGIN_TOTP = """
INSERT INTO totp_credentials (user_id, sealed_secret) VALUES ($1, $2)
ON CONFLICT (user_id) DO UPDATE SET sealed_secret = EXCLUDED.sealed_secret, created_at = now()
WHERE NOT totp_credentials.confirmed
  AND totp_credentials.created_at <= now() - make_interval(secs => $3)
"""
_CONFIRM_TOTP = """
UPDATE totp_credentials SET confirmed = true, confirmed_at = now(), last_used_step = $2, last_used_at = now()
WHERE user_id = $1 AND NOT confirmed AND created_at > now() - make_interval(secs => $3)
"""
_USE_TOTP = """
UPDATE totp_credentials SET last_used_step = $2, last_used_at = now()
WHERE user_id = $1 AND confirmed AND (last_used_step IS NULL OR last_used_step < $2)
"""
_DELETE_TOTP = "DELETE FROM totp_credentials WHERE user_id = $1 RETURNING confirmed"
_RECOVERY_KEY = "SELECT sealed_key FROM recovery_code_sets WHERE user_id = $1"
_DELETE_RECOVERY = "DELETE FROM recovery_code_sets WHERE user_id = $1"
_NEW_RECOVERY_SET = "INSERT INTO recovery_code_sets (user_id, sealed_key) VALUES ($1, $2)"
_NEW_RECOVERY_CODES = "INSERT INTO recovery_codes (user_id, digest) SELECT $1, unnest($2::bytea[])"
_USE_RECOVERY_CODE = """
UPDATE recovery_codes SET used_at = now() WHERE user_id = $1 AND digest = $2 AND used_at IS NULL
"""
_RECOVERY_SUMMARY = """
SELECT s.created_at, count(c.digest) FILTER (WHERE c.used_at IS NULL) AS remaining,
       max(c.used_at) AS last_used_at
FROM recovery_code_sets s LEFT JOIN recovery_codes c ON c.user_id = s.user_id
WHERE s.user_id = $1 GROUP BY s.created_at
"""
_ASSURANCE = "SELECT totp, passkey, required FROM second_factor_state WHERE user_id = $1"
_SEALED = {
    "totp": ("SELECT user_id, sealed_secret AS sealed FROM totp_credentials ORDER BY user_id FOR UPDATE",
             "UPDATE totp_credentials SET sealed_secret = $2 WHERE user_id = $1"),
    "recovery": ("SELECT user_id, sealed_key AS sealed FROM recovery_code_sets ORDER BY user_id FOR UPDATE",
                 "UPDATE recovery_code_sets SET sealed_key = $2 WHERE user_id = $1"),
}  # fmt: skip


class TotpRecord(msgspec.Struct, frozen=True):
    user_id: UUID
    sealed_secret: bytes
    confirmed: bool
    last_used_step: int | None
    created_at: datetime
    confirmed_at: datetime | None
    last_used_at: datetime | None


class RecoverySummary(msgspec.Struct, frozen=True):
    """A person's set of recovery codes: when it was made, how many are unspent, the last use."""

    created_at: datetime
    remaining: int
    last_used_at: datetime | None


class Assurance(msgspec.Struct, frozen=True):
    """What a login needs to know (the ``second_factor_state`` view): a confirmed TOTP, a passkey,
    and whether a role requires a second factor."""

    totp: bool
    passkey: bool
    required: bool

    @property
    def has_factor(self) -> bool:
        return self.totp or self.passkey


class SealedBlob(msgspec.Struct, frozen=True):
    user_id: UUID
    sealed: bytes


def _changed(status: str) -> bool:
    return status.rsplit(" ", 1)[-1] != "0"


class FactorRepository:
    __slots__ = ()

    async def totp(self, conn: asyncpg.Connection, user_id: UUID) -> TotpRecord | None:
        row = await conn.fetchrow(_TOTP, user_id)
        return None if row is None else TotpRecord(**dict(row))

    async def begin_totp(
        self, conn: asyncpg.Connection, user_id: UUID, sealed: bytes, reuse_seconds: int
    ) -> TotpRecord | None:
        """The enrolment's row (a fresh one kept, else ``sealed``); ``None`` for a deleted user."""
        try:
            await conn.execute(_BEGIN_TOTP, user_id, sealed, reuse_seconds)
        except asyncpg.ForeignKeyViolationError:
            return None
        return await self.totp(conn, user_id)

    async def confirm_totp(self, conn: asyncpg.Connection, user_id: UUID, step: int, max_age: int) -> bool:
        return _changed(await conn.execute(_CONFIRM_TOTP, user_id, step, max_age))

    async def use_totp(self, conn: asyncpg.Connection, user_id: UUID, step: int) -> bool:
        """Accepts ``step`` only if later than the last accepted one (one statement: no race)."""
        return _changed(await conn.execute(_USE_TOTP, user_id, step))

    async def delete_totp(self, conn: asyncpg.Connection, user_id: UUID) -> bool | None:
        """Whether the removed credential was confirmed; ``None`` when there was none."""
        confirmed: bool | None = await conn.fetchval(_DELETE_TOTP, user_id)
        return confirmed

    async def recovery_key(self, conn: asyncpg.Connection, user_id: UUID) -> bytes | None:
        sealed: bytes | None = await conn.fetchval(_RECOVERY_KEY, user_id)
        return sealed

    async def replace_recovery_codes(
        self, conn: asyncpg.Connection, user_id: UUID, sealed_key: bytes, digests: list[bytes]
    ) -> None:
        """The person's set becomes this one (the old codes are gone); in the caller's transaction."""
        await conn.execute(_DELETE_RECOVERY, user_id)
        await conn.execute(_NEW_RECOVERY_SET, user_id, sealed_key)
        await conn.execute(_NEW_RECOVERY_CODES, user_id, digests)

    async def use_recovery_code(self, conn: asyncpg.Connection, user_id: UUID, digest: bytes) -> bool:
        return _changed(await conn.execute(_USE_RECOVERY_CODE, user_id, digest))

    async def recovery_summary(self, conn: asyncpg.Connection, user_id: UUID) -> RecoverySummary | None:
        row = await conn.fetchrow(_RECOVERY_SUMMARY, user_id)
        return None if row is None else RecoverySummary(**dict(row))

    async def delete_recovery_codes(self, conn: asyncpg.Connection, user_id: UUID) -> bool:
        return _changed(await conn.execute(_DELETE_RECOVERY, user_id))

    async def assurance(self, conn: asyncpg.Connection, user_id: UUID) -> Assurance:
        row = await conn.fetchrow(_ASSURANCE, user_id)
        return Assurance(False, False, False) if row is None else Assurance(**dict(row))

    async def sealed(self, conn: asyncpg.Connection, table: str) -> list[SealedBlob]:
        """Every sealed blob of ``table`` (``totp`` or ``recovery``), locked until the transaction ends."""
        return [SealedBlob(**dict(r)) for r in await conn.fetch(_SEALED[table][0])]

    async def replace_sealed(
        self, conn: asyncpg.Connection, table: str, user_id: UUID, sealed: bytes
    ) -> None:
        await conn.execute(_SEALED[table][1], user_id, sealed)
