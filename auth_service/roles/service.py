"""Role rules: scopes must be ones this server knows; names are unique; changes are audited."""

from __future__ import annotations

from uuid import UUID

from auth_service.audit.service import Actor, AuditTrail
from auth_service.errors import (
    InvalidField,
    LastAdmin,
    RoleAssignmentNotFound,
    RoleInUse,
    RoleNotFound,
    UserNotFound,
)
from auth_service.roles.repository import RoleRepository
from auth_service.roles.schemas import Role, RoleCreate, RoleUpdate
from auth_service.users.repository import UserRepository
from shared.db.pool import PostgresPool

__all__ = ["RoleService"]

MANAGE = "users:manage"


class RoleService:
    __slots__ = ("_audit", "_pool", "_roles", "_scopes", "_users")

    def __init__(self, pool: PostgresPool, scopes_supported: list[str], audit: AuditTrail) -> None:
        self._pool = pool
        self._scopes = frozenset(scopes_supported)
        self._audit = audit
        self._roles = RoleRepository()
        self._users = UserRepository()

    def _checked_scopes(self, scopes: list[str]) -> list[str]:
        unknown = sorted(set(scopes) - self._scopes)
        if unknown:
            raise InvalidField("scopes", f"Unknown scopes: {' '.join(unknown)} (see scopes_supported).")
        return sorted(set(scopes))

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
        scopes = self._checked_scopes(data.scopes)
        async with self._pool.acquire() as conn, conn.transaction():
            role = await self._roles.insert(conn, data.name, data.description, scopes)
            await self._audit.record(
                "role.create",
                actor,
                target_type="role",
                target_id=data.name,
                details={"scopes": scopes},
                conn=conn,
            )
        return role

    async def update(self, name: str, data: RoleUpdate, actor: Actor) -> Role:
        scopes = self._checked_scopes(data.scopes) if data.scopes is not None else None
        async with self._pool.acquire() as conn, conn.transaction():
            role = await self._roles.update(
                conn, name, new_name=data.name, description=data.description, scopes=scopes
            )
            if role is None:
                raise RoleNotFound()
            await self._audit.record(
                "role.update",
                actor,
                target_type="role",
                target_id=name,
                details={k: v for k, v in {"name": data.name, "scopes": scopes}.items() if v is not None},
                conn=conn,
            )
        return role

    async def delete(self, name: str, actor: Actor) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            if await self._roles.holders(conn, name):
                raise RoleInUse()
            if not await self._roles.delete(conn, name):
                raise RoleNotFound()
            await self._audit.record("role.delete", actor, target_type="role", target_id=name, conn=conn)

    async def assign(self, user_id: UUID, name: str, actor: Actor) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            if await self._users.by_id(conn, user_id) is None:
                raise UserNotFound()
            if await self._roles.get(conn, name) is None:
                raise RoleNotFound()
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
            user = await self._users.by_id(conn, user_id)
            if user is None:
                raise UserNotFound()
            if name not in user.roles:
                raise RoleAssignmentNotFound()
            remaining = await self._roles.all(conn)
            keeps_manage = any(
                MANAGE in r.scopes for r in remaining if r.name in user.roles and r.name != name
            )
            if (
                user.active
                and MANAGE in user.scopes
                and not keeps_manage
                and await self._users.other_active_managers(conn, user_id) == 0
            ):
                raise LastAdmin()
            await self._roles.unassign(conn, user_id, name)
            await self._audit.record(
                "role.unassign",
                actor,
                target_type="user",
                target_id=str(user_id),
                details={"role": name},
                conn=conn,
            )
