"""Role rules: scopes a resource server owns, granted only by who holds them; changes are audited.

Bounded powers: creating a role, widening one or assigning one hands out its scopes, so the actor
must hold each scope it adds (``PowersService``, read in the same transaction as the change).
Changing or deleting a role and unassigning one may leave nobody able to administer everything:
those run under the last-admin rule (``LastAdminRule.guard``).

Live access tokens carry the roles and scopes they were issued with, so taking scopes away revokes
them in the same transaction (``Revoker``): a role losing scopes or deleted, every token carrying
it; a role taken from a user, every token of that user (its next refresh gets the roles it has).
"""

from __future__ import annotations

from uuid import UUID

from auth_service.audit.service import Actor, AuditTrail
from auth_service.errors import RoleAssignmentNotFound, RoleInUse, RoleNotFound, UserNotFound
from auth_service.powers.service import PowersService
from auth_service.revocations.service import Revoker
from auth_service.roles.repository import RoleRepository
from auth_service.roles.schemas import Role, RoleCreate, RoleUpdate
from auth_service.users.administrators import LastAdminRule
from auth_service.users.repository import UserRepository
from shared.db.pool import PostgresPool

__all__ = ["RoleService"]


class RoleService:
    __slots__ = ("_admins", "_audit", "_pool", "_powers", "_revoker", "_roles", "_users")

    def __init__(self, pool: PostgresPool, audit: AuditTrail, revoker: Revoker) -> None:
        self._pool = pool
        self._audit = audit
        self._revoker = revoker
        self._roles = RoleRepository()
        self._users = UserRepository()
        self._powers = PowersService()
        self._admins = LastAdminRule()

    async def all(self) -> list[Role]:
        async with self._pool.acquire() as conn:
            return await self._roles.all(conn)

    async def get(self, name: str) -> Role:
        async with self._pool.acquire() as conn:
            role = await self._roles.get(conn, name)
        if role is None:
            raise RoleNotFound()
        return role

    async def create(self, data: RoleCreate, actor: Actor) -> Role:
        async with self._pool.acquire() as conn, conn.transaction():
            scopes = await self._powers.known_scopes(conn, data.scopes, "scopes")
            await self._powers.lock_administration(conn)
            (await self._powers.of(conn, actor)).require_scopes(scopes, "scopes")
            role = await self._roles.insert(conn, data.name, data.description, scopes, data.requires_mfa)
            await self._audit.record(
                "role.create",
                actor,
                target_type="role",
                target_id=data.name,
                details={"scopes": scopes, "requires_mfa": data.requires_mfa},
                conn=conn,
            )
        return role

    async def update(self, name: str, data: RoleUpdate, actor: Actor) -> Role:
        """Only scopes the role gains must be the actor's: narrowing a role grants nothing."""
        async with self._pool.acquire() as conn, conn.transaction():
            guard = await self._admins.guard(conn)
            current = await self._roles.get(conn, name)
            if current is None:
                raise RoleNotFound()
            scopes = None
            if data.scopes is not None:
                scopes = await self._powers.known_scopes(conn, data.scopes, "scopes")
                added = set(scopes) - set(current.scopes)
                (await self._powers.of(conn, actor)).require_scopes(added, "scopes")
            role = await self._roles.update(
                conn, name, new_name=data.name, description=data.description, scopes=scopes,
                requires_mfa=data.requires_mfa,
            )  # fmt: skip
            if role is None:
                raise RoleNotFound()
            await guard.check()
            if scopes is not None and set(current.scopes) - set(scopes):
                await self._revoker.role(conn, name)  # tokens carry the name they were issued with
            changes = {"name": data.name, "scopes": scopes, "requires_mfa": data.requires_mfa}
            await self._audit.record(
                "role.update",
                actor,
                target_type="role",
                target_id=name,
                details={k: v for k, v in changes.items() if v is not None},
                conn=conn,
            )
        return role

    async def delete(self, name: str, actor: Actor) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            guard = await self._admins.guard(conn)
            if await self._roles.holders(conn, name):
                raise RoleInUse()
            if not await self._roles.delete(conn, name):
                raise RoleNotFound()
            await guard.check()
            await self._revoker.role(conn, name)
            await self._audit.record("role.delete", actor, target_type="role", target_id=name, conn=conn)

    async def assign(self, user_id: UUID, name: str, actor: Actor) -> None:
        """The actor must hold every scope of the role (assigning oneself ``admin`` is refused)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await self._powers.lock_administration(conn)
            if await self._users.by_id(conn, user_id) is None:
                raise UserNotFound()
            role = await self._roles.get(conn, name)
            if role is None:
                raise RoleNotFound()
            (await self._powers.of(conn, actor)).require_scopes(role.scopes, "role")
            await self._roles.assign(conn, user_id, name)
            await self._audit.record(
                "role.assign",
                actor,
                target_type="user",
                target_id=str(user_id),
                details={"role": name},
                conn=conn,
            )

    async def unassign(self, user_id: UUID, name: str, actor: Actor) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            guard = await self._admins.guard(conn)
            user = await self._users.by_id(conn, user_id)
            if user is None:
                raise UserNotFound()
            if not await self._roles.unassign(conn, user_id, name):
                raise RoleAssignmentNotFound()
            await guard.check()
            await self._revoker.subject(conn, str(user_id))
            await self._audit.record(
                "role.unassign",
                actor,
                target_type="user",
                target_id=str(user_id),
                details={"role": name},
                conn=conn,
            )
