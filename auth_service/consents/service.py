"""Consents: whether a person already allowed an app what it asks, remembering it, revoking it.

Revoking a consent also ends the person's sessions (refresh-token families) with that app, in the
same transaction: taking back what an app may do must stop the tokens it holds, not only the next
login. First-party apps never reach this (they skip the consent page); that is the caller's rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from auth_service.audit.service import Actor, AuditTrail
from auth_service.consents.repository import Consent, ConsentRepository
from auth_service.tokens.sessions import SessionService
from shared.db.pool import PostgresPool

__all__ = ["Consent", "Consents"]


class Consents:
    __slots__ = ("_audit", "_pool", "_repo", "_sessions")

    def __init__(self, pool: PostgresPool, sessions: SessionService, audit: AuditTrail) -> None:
        self._pool = pool
        self._sessions = sessions
        self._audit = audit
        self._repo = ConsentRepository()

    async def covers(self, user_id: UUID, client_id: str, scopes: Iterable[str]) -> bool:
        """True when the person already allowed this client every one of ``scopes``."""
        async with self._pool.acquire() as conn:
            return await self._repo.covers(conn, user_id, client_id, sorted(set(scopes)))

    async def remember(self, user_id: UUID, client_id: str, scopes: Iterable[str], actor: Actor) -> None:
        allowed = sorted(set(scopes))
        async with self._pool.acquire() as conn, conn.transaction():
            await self._repo.remember(conn, user_id, client_id, allowed)
            await self._audit.record(
                "consent.grant",
                actor,
                target_type="user",
                target_id=str(user_id),
                details={"client_id": client_id, "scopes": allowed},
                conn=conn,
            )

    async def of_user(self, user_id: UUID) -> list[Consent]:
        """The person's consents, most recently changed first."""
        async with self._pool.acquire() as conn:
            return await self._repo.of_user(conn, user_id)

    async def revoke(self, user_id: UUID, client_id: str, actor: Actor) -> bool:
        """Deletes the consent and ends the person's sessions with the client; ``False`` if there
        was none (nothing is ended then)."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await self._repo.revoke(conn, user_id, client_id):
                return False
            await self._sessions.end_for_client(conn, user_id, client_id, "consent_revoked")
            await self._audit.record(
                "consent.revoke",
                actor,
                target_type="user",
                target_id=str(user_id),
                details={"client_id": client_id},
                conn=conn,
            )
        return True
