"""``SecondFactors``: whether a login needs a second step, and checking the code given there.

The policy (``due``): a person with a confirmed second factor always gives it, a person whose role
requires one and has none is made to enrol, and any login the client asked ``acr`` 2 for needs it
too (enrolling when there is nothing to give). A login already at level 2 needs nothing, so the
single sign-on round trip of such a session asks the database nothing more.

Checking a code: every TOTP or recovery code tried counts towards the person's second-factor
lockout (``SecondFactorThrottle``) before anything is read, a right one clears it; a wrong code,
a replayed one and one for no factor are the same ``WrongCode``. A TOTP step is accepted once
(``FactorRepository.use_totp``). Using a recovery code is audited and noticed in its transaction.

Other kinds of factor (passkeys) plug in as a ``FactorSource``: they count for ``due``, appear in
``kinds`` (the second-step page includes ``second_factor_<kind>.html`` for each) and ``listed``,
and an admin reset removes them too (``admin.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

import msgspec

from auth_service.audit.service import Actor, AuditTrail
from auth_service.factors import recovery_codes, totp
from auth_service.factors.errors import WrongCode
from auth_service.factors.notices import RECOVERY_CODE_USED, SecurityNoticeHook
from auth_service.factors.repository import Assurance, FactorRepository, TotpRecord
from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.oidc.assurance import ACR_TWO_FACTORS, reaches
from auth_service.throttling.second_factor import SecondFactorThrottle
from shared.db.pool import Connection, PostgresPool

__all__ = ["RECOVERY_CODES", "TOTP", "Due", "FactorInfo", "FactorSource", "SecondFactors"]

TOTP = "totp"
RECOVERY_CODES = "recovery_codes"
Due = Literal["verify", "enrol"]
"""What a login still needs: a code from a factor the person has, or setting one up first."""


class FactorInfo(msgspec.Struct, frozen=True):
    """One factor as the person and the admin see it: never a secret. ``remaining``: unspent
    recovery codes; ``id``: a factor kind with several per person (passkeys) names each."""

    kind: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    remaining: int | None = None
    id: str | None = None


class FactorSource(Protocol):
    """Another kind of second factor (passkeys), registered with ``SecondFactors.add_source``.

    Whether a person has one is read from the ``second_factor_state`` view (one statement for
    every login), which names each kind's table: a new kind adds its table there too."""

    @property
    def kind(self) -> str:
        """``FactorInfo.kind`` of its factors, and the name of its second-step partial."""

    async def listed(self, conn: Connection, user_id: UUID) -> list[FactorInfo]:
        """The person's factors of this kind (usable ones only)."""

    async def remove_all(self, conn: Connection, user_id: UUID) -> int:
        """Remove every factor of this kind the person has (an admin reset), in the caller's transaction."""


class SecondFactors:
    __slots__ = ("_audit", "_clock", "_kek", "_notices", "_pool", "_repo", "_sources", "_throttle")

    def __init__(
        self,
        pool: PostgresPool,
        kek: KeyEncryptionKey,
        audit: AuditTrail,
        throttle: SecondFactorThrottle,
        *,
        notices: SecurityNoticeHook | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._pool = pool
        self._kek = kek
        self._audit = audit
        self._throttle = throttle
        self._notices = notices
        self._clock = clock
        self._repo = FactorRepository()
        self._sources: list[FactorSource] = []

    def add_source(self, source: FactorSource) -> None:
        self._sources.append(source)

    @property
    def sources(self) -> tuple[FactorSource, ...]:
        return tuple(self._sources)

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    async def notify(self, conn: Connection, user_id: UUID, kind: str) -> None:
        """Tell the notice hook (if any), in the change's transaction."""
        if self._notices is not None:
            await self._notices.enqueue(conn, user_id, kind)

    def open_totp(self, record: TotpRecord) -> bytes:
        return self._kek.open(record.sealed_secret, totp.associated_data(record.user_id))

    async def due(
        self, user_id: UUID, *, acr: str | None, asked: str | None, known: Assurance | None = None
    ) -> Due | None:
        """What the login still needs; ``acr`` is the level already reached (``None``: only the
        password so far), ``asked`` the level the client asked for (``asked_acr``), ``known`` the
        person's factors when already read in this request (with the browser session)."""
        if acr is not None and reaches(acr, ACR_TWO_FACTORS):
            return None
        assurance = known
        if assurance is None:
            async with self._pool.acquire() as conn:
                assurance = await self._repo.assurance(conn, user_id)
        if assurance.has_factor:
            return "verify"
        return "enrol" if assurance.required or asked == ACR_TWO_FACTORS else None

    async def has_factor(self, conn: Connection, user_id: UUID, *, besides_totp: bool = False) -> bool:
        """Whether the person has a confirmed second factor (other than TOTP, if asked)."""
        assurance = await self._repo.assurance(conn, user_id)
        return assurance.passkey if besides_totp else assurance.has_factor

    async def requires_factor(self, conn: Connection, user_id: UUID) -> bool:
        """Whether a role of the person requires a second factor."""
        return (await self._repo.assurance(conn, user_id)).required

    async def listed(self, user_id: UUID) -> list[FactorInfo]:
        """Every factor the person has: TOTP, the recovery codes, then each source's."""
        async with self._pool.acquire() as conn:
            return await self.listed_on(conn, user_id)

    async def listed_on(self, conn: Connection, user_id: UUID) -> list[FactorInfo]:
        factors: list[FactorInfo] = []
        record = await self._repo.totp(conn, user_id)
        if record is not None and record.confirmed and record.confirmed_at is not None:
            factors.append(FactorInfo(TOTP, "Authenticator app", record.confirmed_at, record.last_used_at))
        for source in self._sources:
            factors.extend(await source.listed(conn, user_id))
        summary = await self._repo.recovery_summary(conn, user_id)
        if summary is not None:
            factors.append(
                FactorInfo(
                    RECOVERY_CODES,
                    "Recovery codes",
                    summary.created_at,
                    summary.last_used_at,
                    summary.remaining,
                )
            )
        return factors

    async def kinds(self, user_id: UUID) -> list[str]:
        """The kinds the person can use at the second step, each once (no spent recovery codes)."""
        usable = [f.kind for f in await self.listed(user_id) if f.kind != RECOVERY_CODES or f.remaining]
        return list(dict.fromkeys(usable))

    async def verify_totp(self, user_id: UUID, code: str, actor: Actor) -> None:
        """Raises ``WrongCode``, ``Throttled`` or ``ThrottlingUnavailable``."""
        attempt = await self._throttle.before_attempt(str(user_id), actor.source_ip)
        matched = await self._accept_totp(user_id, code)
        await self._throttle.after_attempt(attempt, succeeded=matched)
        if not matched:
            await self._wrong(user_id, TOTP, actor)

    async def _accept_totp(self, user_id: UUID, code: str) -> bool:
        normalised = totp.normalise_code(code)
        async with self._pool.acquire() as conn:
            record = await self._repo.totp(conn, user_id)
            if normalised is None or record is None or not record.confirmed:
                return False
            step = totp.matching_step(
                self.open_totp(record), normalised, self._clock(), after=record.last_used_step
            )
            return step is not None and await self._repo.use_totp(conn, user_id, step)

    async def use_recovery_code(self, user_id: UUID, code: str, actor: Actor) -> int:
        """Spends the code; the unspent ones left. Raises ``WrongCode`` or a throttle refusal."""
        attempt = await self._throttle.before_attempt(str(user_id), actor.source_ip)
        remaining: int | None = None
        async with self._pool.acquire() as conn, conn.transaction():
            sealed = await self._repo.recovery_key(conn, user_id)
            if sealed is not None and recovery_codes.normalise_code(code) is not None:
                key = self._kek.open(sealed, recovery_codes.associated_data(user_id))
                if await self._repo.use_recovery_code(conn, user_id, recovery_codes.code_digest(key, code)):
                    summary = await self._repo.recovery_summary(conn, user_id)
                    remaining = summary.remaining if summary else 0
                    await self._audit.record(
                        "mfa.recovery_code_used", actor, target_type="user", target_id=str(user_id),
                        details={"remaining": remaining}, conn=conn,
                    )  # fmt: skip
                    await self.notify(conn, user_id, RECOVERY_CODE_USED)
        await self._throttle.after_attempt(attempt, succeeded=remaining is not None)
        if remaining is None:
            await self._wrong(user_id, RECOVERY_CODES, actor)
        return remaining or 0

    async def _wrong(self, user_id: UUID, kind: str, actor: Actor) -> None:
        await self._audit.record(
            "mfa.verify", actor, outcome="failure", target_type="user", target_id=str(user_id),
            details={"factor": kind},
        )  # fmt: skip
        raise WrongCode
