"""Emergency revocation of a signing key: it stops signing and leaves the JWKS in one transaction.

Everything happens under the rotation lock, so no replica's rotation step runs in between: the
key becomes ``revoked``; if it was the active key, the rotation step that follows (``step_locked``)
replaces it at once — with the pending ``next`` key, already published, or else with a fresh key
that signs immediately (no pre-publication: waiting would mean signing with a compromised key,
and verifiers refetch the JWKS for an unknown ``kid`` anyway). The replacement's schedule starts
now: the following ``next`` key is created when rotation is next due, as for any active key. The
``kid`` revocation goes into the outbox (``Revoker.key``) and the audit trail in the same
transaction, so the verifiers hear of it if and only if it happened.

Revoking a key that is already revoked changes nothing and answers as the first time did (with
``already_revoked``): an operator who retries after a timeout is told the state, not an error.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from auth_service.audit.service import Actor, AuditTrail
from auth_service.errors import NotFound
from auth_service.keys.repository import SigningKeyRepository
from auth_service.keys.rotation import KeyRotation
from auth_service.revocations.service import Revoker
from shared.db.pool import PostgresPool

__all__ = ["KeyRevocation", "SigningKeyNotFound", "SigningKeyRevocation"]


class SigningKeyNotFound(NotFound):
    subject = "signing key"


class KeyRevocation(msgspec.Struct, frozen=True, kw_only=True):
    revoked: str
    """The revoked ``kid``."""
    active: str | None
    """The ``kid`` that signs now."""
    revoked_at: datetime | None
    already_revoked: bool = False
    """Nothing changed: the key was revoked before (``revoked_at`` says when)."""


class SigningKeyRevocation:
    __slots__ = ("_audit", "_pool", "_repo", "_retention", "_revoker", "_rotation")

    def __init__(
        self,
        pool: PostgresPool,
        rotation: KeyRotation,
        revoker: Revoker,
        audit: AuditTrail,
        *,
        retention: int,
    ) -> None:
        """``retention``: seconds the revoked key's row stays listed (as long as a retired key's)."""
        self._pool = pool
        self._rotation = rotation
        self._revoker = revoker
        self._audit = audit
        self._retention = retention
        self._repo = SigningKeyRepository()

    async def revoke(self, kid: str, actor: Actor) -> KeyRevocation:
        async with self._pool.acquire() as conn, conn.transaction():
            await self._repo.lock(conn)
            before = await self._repo.state_of(conn, kid)
            if before is None:
                raise SigningKeyNotFound()
            if before.state == "revoked":
                states = await self._repo.states(conn)
                return KeyRevocation(
                    revoked=kid, active=states.active, revoked_at=before.revoked_at, already_revoked=True
                )
            revoked_at = await self._repo.revoke(conn, kid, self._retention)
            outcome = await self._rotation.step_locked(conn)
            await self._revoker.key(conn, kid)
            await self._audit.record(
                "key.revoke",
                actor,
                target_type="signing_key",
                target_id=kid,
                details={"state": before.state, "active": outcome.active},
                conn=conn,
            )
        return KeyRevocation(revoked=kid, active=outcome.active, revoked_at=revoked_at)
