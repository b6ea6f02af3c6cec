"""Sessions are refresh-token families: listing and revoking them, and revoking their access tokens.

Every revocation runs on the caller's connection, inside the transaction of the change that ends
the session, and records what verifiers must refuse from then on (``Revoker``) in that same
transaction: the sessions' ``sid`` (every access token ever issued from them, so one a refresh
racing the revocation mints is refused too) and, when the account itself changed, its ``sub``.
"""

from __future__ import annotations

from uuid import UUID

from auth_service.audit.service import Actor, AuditTrail
from auth_service.browser_sessions.repository import BrowserSessionRepository
from auth_service.revocations.service import Revoker
from auth_service.tokens.families import Family, FamilyRepository
from shared.db.pool import Connection, PostgresPool

__all__ = ["SessionService"]


class SessionService:
    __slots__ = ("_audit", "_browser_sessions", "_families", "_pool", "_revoker")

    def __init__(self, pool: PostgresPool, revoker: Revoker, audit: AuditTrail) -> None:
        self._pool = pool
        self._audit = audit
        self._revoker = revoker
        self._families = FamilyRepository()
        self._browser_sessions = BrowserSessionRepository()

    async def for_user(self, user_id: UUID) -> list[Family]:
        async with self._pool.acquire() as conn:
            return await self._families.list_for_user(conn, user_id)

    async def get(self, family_id: UUID) -> Family | None:
        async with self._pool.acquire() as conn:
            return await self._families.get(conn, family_id)

    async def revoke(self, conn: Connection, family_id: UUID, reason: str) -> bool:
        """End one session and its access tokens; ``False`` if it had ended already."""
        revoked = await self._families.revoke(conn, family_id, reason)
        await self._revoker.sessions(conn, revoked)
        return bool(revoked)

    async def end_account(self, conn: Connection, user_id: UUID, reason: str) -> None:
        """Every session of the user, and every access token issued to it until now (disabled,
        deleted, password reset by an admin, recovered), and its browser (SSO) sessions."""
        await self._browser_sessions.end_for_user(conn, user_id, reason)
        await self._revoker.sessions(conn, await self._families.revoke_user(conn, user_id, reason))
        await self._revoker.subject(conn, str(user_id))

    async def end_others(self, conn: Connection, user_id: UUID, reason: str, keep: UUID | None) -> None:
        """Every session of the user but ``keep`` (the one changing its own password)."""
        revoked = await self._families.revoke_user(conn, user_id, reason, keep)
        await self._revoker.sessions(conn, revoked)

    async def end_for_client(self, conn: Connection, user_id: UUID, client_id: str, reason: str) -> None:
        """Every session of the user with one client (its consent was revoked)."""
        revoked = await self._families.revoke_user_client(conn, user_id, client_id, reason)
        await self._revoker.sessions(conn, revoked)

    async def revoke_by_admin(self, family_id: UUID, actor: Actor) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await self.revoke(conn, family_id, "revoked_by_admin")
            await self._audit.record(
                "session.revoke", actor, target_type="session", target_id=str(family_id), conn=conn
            )
