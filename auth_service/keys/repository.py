"""The ``signing_keys`` table: every replica reads it, and rotation steps change it under a lock.

A ``revoked`` key (emergency revocation) is never promoted, retired or published again; its row is
kept, like a retired key's, until the tokens it signed have expired (``remove_at``), then deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

__all__ = ["KeyState", "SealedKey", "SigningKeyRepository", "SigningKeyRow"]

# Serialises rotation steps across replicas for the length of one transaction.
ROTATION_LOCK = 0x61757468_6B657973  # "authkeys"

_COLUMNS = (
    "kid, alg, state, public_jwk, private_key, created_at, activate_at, activated_at, retired_at, remove_at,"
    " revoked_at"
)

_LIST = f"SELECT {_COLUMNS} FROM signing_keys ORDER BY created_at DESC"  # noqa: S608
_LOCK = "SELECT pg_advisory_xact_lock($1)"
_STATES = "SELECT state, kid, activate_at, activated_at, now() AS now FROM signing_keys"
_INSERT = """
INSERT INTO signing_keys (kid, alg, state, public_jwk, private_key, activate_at, activated_at)
VALUES ($1, $2, $3, $4::jsonb, $5, now() + make_interval(secs => $6),
        CASE WHEN $3 = 'active' THEN now() END)
"""
_RETIRE_ACTIVE = """
UPDATE signing_keys SET state = 'retired', retired_at = now(), remove_at = now() + make_interval(secs => $1)
WHERE state = 'active'
"""
_PROMOTE_NEXT = "UPDATE signing_keys SET state = 'active', activated_at = now() WHERE state = 'next'"
_REMOVE_EXPIRED = """
DELETE FROM signing_keys WHERE state IN ('retired', 'revoked') AND remove_at <= now() RETURNING kid
"""
_STATE_OF = "SELECT state, revoked_at FROM signing_keys WHERE kid = $1"
_REVOKE = """
UPDATE signing_keys
SET state = 'revoked', revoked_at = now(),
    remove_at = greatest(remove_at, now() + make_interval(secs => $2))
WHERE kid = $1 AND state <> 'revoked'
RETURNING revoked_at
"""
# A revoked key is never opened again, so it is left as it is (its KEK may be the lost one).
_SEALED = "SELECT kid, alg, private_key FROM signing_keys WHERE state <> 'revoked' ORDER BY created_at"
_RESEAL = "UPDATE signing_keys SET private_key = $2 WHERE kid = $1"


class SigningKeyRow(msgspec.Struct, frozen=True):
    kid: str
    alg: str
    state: str
    public_jwk: dict[str, Any]
    private_key: bytes
    created_at: datetime
    activate_at: datetime
    activated_at: datetime | None
    retired_at: datetime | None
    remove_at: datetime | None
    revoked_at: datetime | None = None

    @property
    def published(self) -> bool:
        """In the JWKS: every key but a revoked one (``next`` before it signs, ``retired`` after)."""
        return self.state != "revoked"


class KeyState(msgspec.Struct, frozen=True):
    state: str
    revoked_at: datetime | None


class SealedKey(msgspec.Struct, frozen=True):
    kid: str
    alg: str
    private_key: bytes


class KeyStates(msgspec.Struct, frozen=True):
    active: str | None
    active_since: datetime | None
    next_kid: str | None
    next_due: bool
    now: datetime


def _row(record: asyncpg.Record) -> SigningKeyRow:
    values = dict(record)
    values["public_jwk"] = msgspec.json.decode(values["public_jwk"])
    return SigningKeyRow(**values)


class SigningKeyRepository:
    __slots__ = ()

    async def all(self, conn: asyncpg.Connection) -> list[SigningKeyRow]:
        return [_row(r) for r in await conn.fetch(_LIST)]

    async def lock(self, conn: asyncpg.Connection) -> None:
        """Inside a transaction: wait for any other replica's rotation step to finish."""
        await conn.execute(_LOCK, ROTATION_LOCK)

    async def states(self, conn: asyncpg.Connection) -> KeyStates:
        rows = await conn.fetch(_STATES)
        now: datetime = rows[0]["now"] if rows else await conn.fetchval("SELECT now()")
        active = next((r for r in rows if r["state"] == "active"), None)
        pending = next((r for r in rows if r["state"] == "next"), None)
        return KeyStates(
            active=active["kid"] if active else None,
            active_since=active["activated_at"] if active else None,
            next_kid=pending["kid"] if pending else None,
            next_due=bool(pending and pending["activate_at"] <= now),
            now=now,
        )

    async def insert(
        self,
        conn: asyncpg.Connection,
        *,
        kid: str,
        alg: str,
        state: str,
        public_jwk: dict[str, Any],
        sealed_private_key: bytes,
        activate_in: float,
    ) -> None:
        await conn.execute(
            _INSERT,
            kid,
            alg,
            state,
            msgspec.json.encode(public_jwk).decode(),
            sealed_private_key,
            activate_in,
        )

    async def promote_next(self, conn: asyncpg.Connection, retention_seconds: float) -> None:
        await conn.execute(_RETIRE_ACTIVE, retention_seconds)
        await conn.execute(_PROMOTE_NEXT)

    async def remove_expired(self, conn: asyncpg.Connection) -> list[str]:
        return [r["kid"] for r in await conn.fetch(_REMOVE_EXPIRED)]

    async def state_of(self, conn: asyncpg.Connection, kid: str) -> KeyState | None:
        record = await conn.fetchrow(_STATE_OF, kid)
        return KeyState(state=record["state"], revoked_at=record["revoked_at"]) if record else None

    async def revoke(self, conn: asyncpg.Connection, kid: str, retention_seconds: float) -> datetime | None:
        """Revoke ``kid`` now; ``None`` if it is unknown or already revoked (nothing changed)."""
        revoked_at: datetime | None = await conn.fetchval(_REVOKE, kid, retention_seconds)
        return revoked_at

    async def sealed(self, conn: asyncpg.Connection) -> list[SealedKey]:
        return [SealedKey(r["kid"], r["alg"], r["private_key"]) for r in await conn.fetch(_SEALED)]

    async def replace_sealed(self, conn: asyncpg.Connection, kid: str, sealed_private_key: bytes) -> None:
        await conn.execute(_RESEAL, kid, sealed_private_key)
