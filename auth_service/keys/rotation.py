"""Rotation steps that every replica runs on a timer; the database decides, so replicas agree.

A step, under a transaction-scoped advisory lock (replicas take turns):

1. no active key at all (first start): the pending key, or a fresh one, becomes active at once —
   no token exists yet, so there is nothing a verifier could miss;
2. the pending (``next``) key's publication period is over: the active key retires (still
   published until every token it signed has expired) and the pending key becomes active;
3. automatic rotation is due (or an operator asked for one) and no key is pending: a new key is
   created in state ``next``, published now, signing ``AUTH_KEY_PREPUBLISH_SECONDS`` later;
4. retired keys past their removal time are deleted, so they leave the JWKS.

A ``revoked`` key is in none of these states: no step promotes, retires or publishes it again; it
is deleted like a retired key once its ``remove_at`` has passed (``repository.py``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import timedelta

import msgspec

from auth_service.keys.material import generate_private_key, private_key_der, public_jwk
from auth_service.keys.repository import SigningKeyRepository
from auth_service.keys.sealing import KeyEncryptionKey
from shared.db.pool import Connection, PostgresPool

__all__ = ["KeyRotation", "RotationOutcome"]

log = logging.getLogger(__name__)


class RotationOutcome(msgspec.Struct, frozen=True):
    active: str | None
    pending: str | None
    changed: bool
    created: str | None = None
    """The kid of the key this step created as ``next`` (a rotation started), if any."""


class KeyRotation:
    __slots__ = ("_alg", "_interval", "_kek", "_pool", "_prepublish", "_repo", "_retention")

    def __init__(
        self,
        pool: PostgresPool,
        kek: KeyEncryptionKey,
        *,
        alg: str,
        interval: int,
        prepublish: int,
        retention: int,
    ) -> None:
        self._pool = pool
        self._kek = kek
        self._alg = alg
        self._interval = interval
        self._prepublish = prepublish
        self._retention = retention
        self._repo = SigningKeyRepository()

    async def step(self, *, rotate_now: bool = False) -> RotationOutcome:
        async with self._pool.acquire() as conn, conn.transaction():
            await self._repo.lock(conn)
            return await self.step_locked(conn, rotate_now=rotate_now)

    async def step_locked(self, conn: Connection, *, rotate_now: bool = False) -> RotationOutcome:
        """One step inside the caller's transaction, which holds the lock (``lock``): an emergency
        revocation runs it right after taking the active key away, so step 1 replaces it."""
        changed = False
        states = await self._repo.states(conn)
        if states.active is None and states.next_kid is None:
            await self._create(conn, "active", 0)
            changed = True
        elif states.active is None or states.next_due:
            await self._repo.promote_next(conn, self._retention)
            log.info("signing key %s now signs", states.next_kid)
            changed = True
        if changed:
            states = await self._repo.states(conn)
        rotation_due = (
            self._interval > 0
            and states.active_since is not None
            and states.active_since + timedelta(seconds=self._interval - self._prepublish) <= states.now
        )
        pending = states.next_kid
        created = None
        if pending is None and (rotate_now or rotation_due):
            pending = created = await self._create(conn, "next", self._prepublish)
            changed = True
        removed = await self._repo.remove_expired(conn)
        if removed:
            log.info("retired or revoked signing keys removed: %s", ", ".join(removed))
            changed = True
        return RotationOutcome(active=states.active, pending=pending, changed=changed, created=created)

    async def lock(self, conn: Connection) -> None:
        """Inside a transaction: take the rotation lock (other replicas' steps wait)."""
        await self._repo.lock(conn)

    async def _create(self, conn: Connection, state: str, activate_in: float) -> str:
        kid = new_kid()
        key = await asyncio.to_thread(generate_private_key, self._alg)
        sealed = self._kek.seal(private_key_der(key), associated_data(kid, self._alg))
        await self._repo.insert(
            conn,
            kid=kid,
            alg=self._alg,
            state=state,
            public_jwk=public_jwk(key, kid, self._alg),
            sealed_private_key=sealed,
            activate_in=activate_in,
        )
        log.info("signing key %s (%s) created as %s", kid, self._alg, state)
        return kid


def associated_data(kid: str, alg: str) -> bytes:
    return f"signing-key:{kid}:{alg}".encode()


def new_kid() -> str:
    """96 random bits, base64url, never starting with ``-``: an operator types a kid as an argument
    (``auth-service keys revoke KID``), where a leading dash reads as an option."""
    while (kid := secrets.token_urlsafe(12)).startswith("-"):
        pass
    return kid
