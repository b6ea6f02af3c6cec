"""Sessions are refresh-token families: listing and revoking them, and denying their access tokens."""

from __future__ import annotations

from uuid import UUID

from auth_service.audit.service import Actor, AuditTrail
from auth_service.tokens.families import Family, FamilyRepository
from auth_service.tokens.revocations import AccessRevocations
from shared.db.pool import Connection, PostgresPool

__all__ = ["SessionService"]


class SessionService:
    __slots__ = ("_audit", "_families", "_pool", "_revocations")

    def __init__(self, pool: PostgresPool, revocations: AccessRevocations, audit: AuditTrail) -> None:
        self._pool = pool
        self._audit = audit
        self._revocations = revocations
        self._families = FamilyRepository()

    async def for_user(self, user_id: UUID) -> list[Family]:
        async with self._pool.acquire() as conn:
            return await self._families.list_for_user(conn, user_id)

    async def get(self, family_id: UUID) -> Family | None:
        async with self._pool.acquire() as conn:
            return await self._families.get(conn, family_id)

    async def revoke(self, conn: Connection, family_id: UUID, reason: str) -> None:
        """Revoke on the caller's connection (inside its transaction), then deny the access tokens."""
        await self._revocations.deny(await self._families.revoke(conn, family_id, reason))

    async def revoke_user(
        self, conn: Connection, user_id: UUID, reason: str, keep: UUID | None = None
    ) -> None:
        await self._revocations.deny(await self._families.revoke_user(conn, user_id, reason, keep))

    async def revoke_by_admin(self, family_id: UUID, actor: Actor) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await self.revoke(conn, family_id, "revoked_by_admin")
            await self._audit.record(
                "session.revoke", actor, target_type="session", target_id=str(family_id), conn=conn
            )
