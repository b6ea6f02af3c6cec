"""Signing keys as the app sees them: start-up, the periodic rotation step, on-demand rotation,
emergency revocation and re-sealing under a new key-encryption key.

A rotation or revocation someone asked for (an admin through the API, an operator from the CLI) is
audited here, like every other change a context makes, whoever the caller is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from auth_service.audit.service import Actor, AuditTrail
from auth_service.keys.keyring import Keyring
from auth_service.keys.repository import SigningKeyRow
from auth_service.keys.resealing import KeyResealing, Reseal
from auth_service.keys.revocation import KeyRevocation, SigningKeyRevocation
from auth_service.keys.rotation import KeyRotation, RotationOutcome
from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.revocations.service import Revoker
from auth_service.settings import KeySettings
from shared.db.pool import PostgresPool
from shared.periodic import PeriodicRefresh

__all__ = ["LONGEST_TOKEN_LIFETIME", "SigningKeys", "key_encryption_key"]

log = logging.getLogger(__name__)

LONGEST_TOKEN_LIFETIME = 86400
"""The longest access-token lifetime any setting allows (``AUTH_ACCESS_TOKEN_TTL`` and a resource
server's ``access_token_ttl`` both stop at a day): how long a ``kid`` revocation is kept when no
``Revoker`` is handed in. A key may have signed tokens for any resource, under earlier lifetimes."""


def key_encryption_key(settings: KeySettings) -> KeyEncryptionKey:
    """The KEK the settings name: the newest seals, the previous ones only open."""
    return KeyEncryptionKey.from_settings(
        settings.key_encryption_key,
        settings.key_encryption_key_file,
        previous=settings.previous_key_encryption_keys,
    )


class SigningKeys:
    """Owns the keyring and the rotation timer of one replica."""

    __slots__ = (
        "_audit",
        "_on_rotation",
        "_reloads",
        "_resealing",
        "_revocation",
        "_timer",
        "keyring",
        "rotation",
    )

    def __init__(
        self,
        pool: PostgresPool,
        kek: KeyEncryptionKey,
        settings: KeySettings,
        retention_seconds: int,
        audit: AuditTrail,
        *,
        on_rotation: Callable[[str], None] | None = None,
        revoker: Revoker | None = None,
    ) -> None:
        """``retention_seconds`` is ``AuthSettings.key_retention_seconds`` (it depends on the token
        lifetime too). ``on_rotation(trigger)`` is called when this replica starts a rotation (``manual`` or
        ``scheduled``), for the rotations counter. ``revoker`` records ``kid`` revocations for the
        verifiers (default: one keeping them ``LONGEST_TOKEN_LIFETIME``)."""
        self._audit = audit
        self._on_rotation = on_rotation
        self.keyring = Keyring(pool, kek)
        self.rotation = KeyRotation(
            pool,
            kek,
            alg=settings.signing_alg,
            interval=settings.key_rotation_interval,
            prepublish=settings.key_prepublish_seconds,
            retention=retention_seconds,
        )
        self._revocation = SigningKeyRevocation(
            pool,
            self.rotation,
            revoker or Revoker(lambda: LONGEST_TOKEN_LIFETIME),
            audit,
            retention=retention_seconds,
        )
        self._resealing = KeyResealing(pool, kek, audit)
        self._reloads: set[asyncio.Task[None]] = set()
        self._timer = PeriodicRefresh("signing keys", self._step, interval=settings.key_refresh_interval)

    async def sync(self, *, rotate_now: bool = False) -> RotationOutcome:
        """One rotation step, then reload this replica's keyring."""
        outcome = await self.rotation.step(rotate_now=rotate_now)
        await self.keyring.refresh()
        if outcome.created and self._on_rotation is not None:
            self._on_rotation("manual" if rotate_now else "scheduled")
        return outcome

    async def rotate(self, actor: Actor) -> RotationOutcome:
        """Start a rotation now: a new key is published and signs after the pre-publication period."""
        outcome = await self.sync(rotate_now=True)
        await self._audit.record("keys.rotate", actor, target_type="signing_key", target_id=outcome.pending)
        return outcome

    async def revoke(self, kid: str, actor: Actor) -> KeyRevocation:
        """Emergency revocation (``revocation.py``): committed, then this replica drops the key and
        loads its replacement at once; the other replicas hear of it through the revocation feed
        (``reload``), or at their next refresh at the latest."""
        revocation = await self._revocation.revoke(kid, actor)
        self.keyring.forget(kid)
        await self._reload()  # committed: a failed reload is logged, the answer stays the truth
        return revocation

    def reload(self, kid: str | None = None) -> None:
        """A key was revoked elsewhere (the feed's ``kid`` event): drop ``kid`` now and reload the
        keyring in the background, so this replica signs with the replacement within milliseconds.
        Synchronous, so it can be the feed's callback; call it on the event loop."""
        if kid is not None:
            self.keyring.forget(kid)
        task = asyncio.get_running_loop().create_task(self._reload(), name="signing-keys-reload")
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def _reload(self) -> None:
        try:
            await self.keyring.refresh()
        except Exception:
            log.exception("signing keys not reloaded after a revocation; the periodic refresh retries")

    def on_key_revoked(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(kid)`` once for each key this replica learns is revoked (its own
        revocations, the feed's, the table's): for the verifiers of this service's own API, which
        must also drop what they cached."""
        self.keyring.on_key_revoked(listener)

    async def reseal(self, actor: Actor) -> Reseal:
        """Seal every signing key again under the newest key-encryption key (``resealing.py``)."""
        return await self._resealing.reseal(actor)

    def loaded(self) -> list[SigningKeyRow]:
        """The keys as this replica last loaded them (no database round trip)."""
        return self.keyring.rows

    async def current(self) -> list[SigningKeyRow]:
        """The keys as the database has them now (reloading this replica's keyring)."""
        await self.keyring.refresh()
        return self.keyring.rows

    async def _step(self) -> None:
        await self.sync()

    async def start(self) -> None:
        await self._timer.start()

    async def stop(self) -> None:
        """Bounded: a reload stuck on an unanswering database must not hold up the shutdown."""
        await self._timer.stop()
        reloads = list(self._reloads)
        for task in reloads:
            task.cancel()
        if reloads:
            await asyncio.wait(reloads, timeout=5)
