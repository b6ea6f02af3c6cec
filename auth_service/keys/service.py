"""Signing keys as the app sees them: start-up, the periodic rotation step, on-demand rotation.

A rotation someone asked for (an admin through the API, an operator from the CLI) is audited here,
like every other change a context makes, whoever the caller is.
"""

from __future__ import annotations

from collections.abc import Callable

from auth_service.audit.service import Actor, AuditTrail
from auth_service.keys.keyring import Keyring
from auth_service.keys.repository import SigningKeyRow
from auth_service.keys.rotation import KeyRotation, RotationOutcome
from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.settings import KeySettings
from shared.db.pool import PostgresPool
from shared.periodic import PeriodicRefresh

__all__ = ["SigningKeys"]


class SigningKeys:
    """Owns the keyring and the rotation timer of one replica."""

    __slots__ = ("_audit", "_on_rotation", "_timer", "keyring", "rotation")

    def __init__(
        self,
        pool: PostgresPool,
        kek: KeyEncryptionKey,
        settings: KeySettings,
        retention_seconds: int,
        audit: AuditTrail,
        *,
        on_rotation: Callable[[str], None] | None = None,
    ) -> None:
        """``retention_seconds`` is ``AuthSettings.key_retention_seconds`` (it depends on the token
        lifetime too). ``on_rotation(trigger)`` is called when this replica starts a rotation (``manual`` or
        ``scheduled``), for the rotations counter."""
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
        await self._timer.stop()
