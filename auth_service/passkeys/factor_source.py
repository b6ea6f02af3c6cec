"""Passkeys in the second-factor policy of the factors context, both ways.

``PasskeyFactors`` is the ``FactorSource`` that ``SecondFactors.add_source`` takes: a person's
passkeys count as second factors (``due``), appear in the second step's kinds (its
``second_factor_passkey.html`` partial) and the factor lists, and an admin's reset removes them.
``FactorsLink`` is the ``FactorLink`` the passkey service calls in each change's transaction:
the notice mail of a factor added or removed, the first recovery codes when a passkey is the
person's first factor, and the rule that the last factor a role requires cannot be removed (with
no factor left, the recovery codes go too, as when TOTP is removed).
"""

from __future__ import annotations

from uuid import UUID

from auth_service.browser_sessions.service import BrowserSession
from auth_service.factors.enrolment import Enrolments
from auth_service.factors.errors import FactorRequired
from auth_service.factors.notices import FACTOR_ADDED, FACTOR_REMOVED
from auth_service.factors.repository import FactorRepository
from auth_service.factors.service import FactorInfo, SecondFactors
from auth_service.passkeys.repository import PasskeyRepository
from auth_service.passkeys.second_factor_pages import SECOND_FACTOR_KIND
from shared.db.pool import Connection

__all__ = ["FactorsLink", "PasskeyFactors"]


class PasskeyFactors:
    """A person's passkeys as ``FactorInfo`` (kind ``passkey``, one per credential, its id named)."""

    __slots__ = ("_repo",)

    def __init__(self) -> None:
        self._repo = PasskeyRepository()

    @property
    def kind(self) -> str:
        return SECOND_FACTOR_KIND

    async def listed(self, conn: Connection, user_id: UUID) -> list[FactorInfo]:
        return [
            FactorInfo(SECOND_FACTOR_KIND, p.name, p.created_at, p.last_used_at, id=str(p.id))
            for p in await self._repo.of_user(conn, user_id)
        ]

    async def remove_all(self, conn: Connection, user_id: UUID) -> int:
        return await self._repo.remove_all(conn, user_id)


class FactorsLink:
    __slots__ = ("_enrolments", "_factors", "_repo")

    def __init__(self, factors: SecondFactors, enrolments: Enrolments) -> None:
        self._factors = factors
        self._enrolments = enrolments
        self._repo = FactorRepository()

    async def added(self, conn: Connection, user_id: UUID) -> list[str] | None:
        codes = await self._enrolments.first_recovery_codes(conn, user_id)
        await self._factors.notify(conn, user_id, FACTOR_ADDED)
        return codes

    async def allows(self, session: BrowserSession) -> bool:
        return await self._factors.due(session.user_id, acr=session.acr, asked=None) is None

    async def removed(self, conn: Connection, user_id: UUID) -> None:
        if not await self._factors.has_factor(conn, user_id):
            if await self._factors.requires_factor(conn, user_id):
                raise FactorRequired()
            await self._repo.delete_recovery_codes(conn, user_id)
        await self._factors.notify(conn, user_id, FACTOR_REMOVED)
