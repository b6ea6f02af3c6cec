"""An admin's view of a person's second factors, and the reset for a lost one.

Listing shows kinds, names and dates, never a secret. A reset removes every factor (TOTP, recovery
codes, each source's passkeys) and ends every session of the person: browser sessions, apps'
sessions and the access tokens issued so far, as an admin's password reset does. A reset is what
happens when a phone is lost or may be in someone else's hands, so nothing made with the old
factor may go on; the person logs in again with the password and, if a role requires it, sets up a
new factor then. Whoever resets must hold every scope of the account (as for a password reset:
the next person to enrol holds them). Audited and noticed in the reset's transaction.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from auth_service.audit.service import Actor, AuditTrail
from auth_service.errors import UserNotFound
from auth_service.factors.notices import FACTORS_RESET
from auth_service.factors.repository import FactorRepository
from auth_service.factors.service import RECOVERY_CODES, TOTP, FactorInfo, SecondFactors
from auth_service.powers.service import PowersService
from auth_service.tokens.sessions import SessionService
from auth_service.users.repository import UserRepository
from shared.db.pool import PostgresPool

__all__ = ["FactorAdministration", "FactorReset"]

RESET_REASON = "factors_reset"


class FactorReset(msgspec.Struct, frozen=True):
    """What a reset removed, by kind (nothing: the person had no factor; their sessions ended anyway)."""

    removed: list[str]


class FactorAdministration:
    __slots__ = ("_audit", "_factors", "_pool", "_powers", "_repo", "_sessions", "_users")

    def __init__(
        self, pool: PostgresPool, factors: SecondFactors, sessions: SessionService, audit: AuditTrail
    ) -> None:
        self._pool = pool
        self._factors = factors
        self._sessions = sessions
        self._audit = audit
        self._repo = FactorRepository()
        self._users = UserRepository()
        self._powers = PowersService()

    async def of_user(self, user_id: UUID) -> list[FactorInfo]:
        """Raises ``UserNotFound`` (an unknown user is a 404, not an empty list)."""
        async with self._pool.acquire() as conn:
            if await self._users.by_id(conn, user_id) is None:
                raise UserNotFound()
            return await self._factors.listed_on(conn, user_id)

    async def reset(self, user_id: UUID, actor: Actor) -> FactorReset:
        """Raises ``UserNotFound`` or ``BeyondOwnPowers``."""
        async with self._pool.acquire() as conn, conn.transaction():
            user = await self._users.by_id(conn, user_id)
            if user is None:
                raise UserNotFound()
            (await self._powers.of(conn, actor)).require_scopes(user.scopes, "factors")
            removed = []
            if await self._repo.delete_totp(conn, user_id) is not None:
                removed.append(TOTP)
            for source in self._factors.sources:
                if await source.remove_all(conn, user_id):
                    removed.append(source.kind)
            if await self._repo.delete_recovery_codes(conn, user_id):
                removed.append(RECOVERY_CODES)
            await self._sessions.end_account(conn, user_id, RESET_REASON)
            await self._audit.record(
                "mfa.reset", actor, target_type="user", target_id=str(user_id),
                details={"removed": removed}, conn=conn,
            )  # fmt: skip
            await self._factors.notify(conn, user_id, FACTORS_RESET)
        return FactorReset(removed=removed)
