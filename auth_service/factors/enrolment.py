"""Setting second factors up and taking them away: TOTP enrolment, removal, new recovery codes.

An enrolment stores a new sealed secret, unconfirmed, and shows it; a reload within the
enrolment's lifetime shows the same one, a later start makes a new one (a secret someone saw and
abandoned is never the one a person later confirms). A first right code confirms it; that code's
step counts as used. The person's first factor comes with ten recovery codes, returned once and
stored only as HMACs. Removing TOTP removes the recovery codes too when no other factor is left
(they are a way back into a second factor, not a factor of their own), and is refused when a role
of the person requires a second factor and it is the last. Every change is audited and noticed in
its own transaction. Proving the person (password or a fresh code) is the caller's.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from auth_service.audit.service import Actor, AuditTrail
from auth_service.errors import UserNotFound
from auth_service.factors import recovery_codes, totp
from auth_service.factors.errors import (
    FactorRequired,
    NoEnrolment,
    NoSecondFactor,
    TotpAlreadyEnrolled,
    WrongCode,
)
from auth_service.factors.notices import FACTOR_ADDED, FACTOR_REMOVED, RECOVERY_CODES_REGENERATED
from auth_service.factors.repository import FactorRepository
from auth_service.factors.service import SecondFactors
from auth_service.keys.sealing import KeyEncryptionKey
from shared.db.pool import Connection, PostgresPool

__all__ = ["Enrolments", "TotpEnrolment"]


class TotpEnrolment(msgspec.Struct, frozen=True):
    """What the enrolment page shows: the secret to type in (grouped) and the URI of the QR code."""

    secret: str
    uri: str


class Enrolments:
    __slots__ = ("_audit", "_factors", "_issuer", "_kek", "_pool", "_repo", "_ttl")

    def __init__(
        self,
        pool: PostgresPool,
        kek: KeyEncryptionKey,
        audit: AuditTrail,
        factors: SecondFactors,
        *,
        issuer: str,
        enrolment_ttl: int,
    ) -> None:
        self._pool = pool
        self._kek = kek
        self._audit = audit
        self._factors = factors
        self._issuer = issuer
        self._ttl = enrolment_ttl
        self._repo = FactorRepository()

    async def begin_totp(self, user_id: UUID, account: str) -> TotpEnrolment:
        """The secret to show (``account`` labels it in the app). Raises ``TotpAlreadyEnrolled``."""
        sealed = self._kek.seal(totp.new_secret(), totp.associated_data(user_id))
        async with self._pool.acquire() as conn:
            record = await self._repo.begin_totp(conn, user_id, sealed, self._ttl)
        if record is None:
            raise UserNotFound()
        if record.confirmed:
            raise TotpAlreadyEnrolled()
        secret = self._factors.open_totp(record)
        uri = totp.provisioning_uri(secret, account, self._issuer)
        return TotpEnrolment(secret=totp.grouped(totp.secret_text(secret)), uri=uri)

    async def confirm_totp(self, user_id: UUID, code: str, actor: Actor) -> list[str] | None:
        """Confirms the enrolment with its first code: the new recovery codes when it is the
        person's first factor (shown once), else ``None``. Raises ``WrongCode`` or ``NoEnrolment``."""
        normalised = totp.normalise_code(code)
        async with self._pool.acquire() as conn, conn.transaction():
            record = await self._repo.totp(conn, user_id)
            if record is None or record.confirmed:
                raise NoEnrolment()
            step = None
            if normalised is not None:
                step = totp.matching_step(
                    self._factors.open_totp(record), normalised, self._factors.clock(), after=None
                )
            if step is None:
                raise WrongCode()
            if not await self._repo.confirm_totp(conn, user_id, step, self._ttl):
                raise NoEnrolment()
            first = await self._repo.recovery_key(conn, user_id) is None
            codes = await self._new_recovery_codes(conn, user_id) if first else None
            await self._audit.record(
                "mfa.totp_enrol", actor, target_type="user", target_id=str(user_id),
                details={"recovery_codes": first}, conn=conn,
            )  # fmt: skip
            await self._factors.notify(conn, user_id, FACTOR_ADDED)
        return codes

    async def remove_totp(self, user_id: UUID, actor: Actor) -> None:
        """Raises ``NoSecondFactor`` (nothing to remove) or ``FactorRequired``."""
        async with self._pool.acquire() as conn, conn.transaction():
            others = await self._factors.has_factor(conn, user_id, besides_totp=True)
            if not others and await self._factors.requires_factor(conn, user_id):
                raise FactorRequired()
            confirmed = await self._repo.delete_totp(conn, user_id)
            if not confirmed:
                raise NoSecondFactor()
            if not others:
                await self._repo.delete_recovery_codes(conn, user_id)
            await self._audit.record(
                "mfa.totp_remove", actor, target_type="user", target_id=str(user_id),
                details={"recovery_codes_removed": not others}, conn=conn,
            )  # fmt: skip
            await self._factors.notify(conn, user_id, FACTOR_REMOVED)

    async def regenerate_recovery_codes(self, user_id: UUID, actor: Actor) -> list[str]:
        """A new set (every old code stops working), shown once. Raises ``NoSecondFactor``."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await self._factors.has_factor(conn, user_id):
                raise NoSecondFactor()
            codes = await self._new_recovery_codes(conn, user_id)
            await self._audit.record(
                "mfa.recovery_codes_regenerate", actor, target_type="user", target_id=str(user_id), conn=conn
            )
            await self._factors.notify(conn, user_id, RECOVERY_CODES_REGENERATED)
        return codes

    async def first_recovery_codes(self, conn: Connection, user_id: UUID) -> list[str] | None:
        """For another kind of factor's enrolment (passkeys): the codes when the person has none
        yet, in the enrolment's transaction; ``None`` when they have a set already."""
        if await self._repo.recovery_key(conn, user_id) is not None:
            return None
        return await self._new_recovery_codes(conn, user_id)

    async def _new_recovery_codes(self, conn: Connection, user_id: UUID) -> list[str]:
        key = recovery_codes.new_key()
        codes = recovery_codes.new_codes()
        sealed = self._kek.seal(key, recovery_codes.associated_data(user_id))
        digests = [recovery_codes.code_digest(key, code) for code in codes]
        await self._repo.replace_recovery_codes(conn, user_id, sealed, digests)
        return codes
