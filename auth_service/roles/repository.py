"""The ``roles`` table and role assignment (asyncpg only).

A role row is exactly what the API shows, so rows become ``Role`` directly; a taken name is
``RoleExists``, an assignment to a user deleted meanwhile ``UserNotFound``.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from auth_service.errors import RoleExists, UserNotFound
from auth_service.roles.schemas import Role

__all__ = ["RoleRepository"]

_COLUMNS = "id, name, description, scopes, created_at, updated_at, requires_mfa"
_LIST = f"SELECT {_COLUMNS} FROM roles ORDER BY name"  # noqa: S608
_GET = f"SELECT {_COLUMNS} FROM roles WHERE name = $1"  # noqa: S608
_EXISTING = "SELECT name FROM roles WHERE name = ANY($1::text[])"
_INSERT = f"""
INSERT INTO roles (name, description, scopes, requires_mfa) VALUES ($1, $2, $3, $4) RETURNING {_COLUMNS}
"""  # noqa: S608
_UPDATE = f"""
UPDATE roles SET name = coalesce($2, name), description = coalesce($3, description),
                 scopes = coalesce($4, scopes), requires_mfa = coalesce($5, requires_mfa),
                 updated_at = now()
WHERE name = $1 RETURNING {_COLUMNS}
"""  # noqa: S608
_DELETE = "DELETE FROM roles WHERE name = $1"
_ASSIGN = """
INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE name = $2
ON CONFLICT DO NOTHING
"""
_UNASSIGN = "DELETE FROM user_roles WHERE user_id = $1 AND role_id = (SELECT id FROM roles WHERE name = $2)"
_HOLDERS = "SELECT count(*) FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE r.name = $1"
_SCOPES_OF = "SELECT DISTINCT s FROM roles r CROSS JOIN unnest(r.scopes) AS s WHERE r.name = ANY($1::text[])"
_RESTORE = """
INSERT INTO roles (name, description, scopes, requires_mfa) VALUES ($1, $2, $3, $4)
ON CONFLICT (name) DO UPDATE SET scopes = EXCLUDED.scopes, requires_mfa = EXCLUDED.requires_mfa,
                                 updated_at = now()
"""


def _role(row: asyncpg.Record | None) -> Role | None:
    return None if row is None else Role(**dict(row))


class RoleRepository:
    __slots__ = ()

    async def all(self, conn: asyncpg.Connection) -> list[Role]:
        return [Role(**dict(r)) for r in await conn.fetch(_LIST)]

    async def get(self, conn: asyncpg.Connection, name: str) -> Role | None:
        return _role(await conn.fetchrow(_GET, name))

    async def existing(self, conn: asyncpg.Connection, names: list[str]) -> set[str]:
        return {r["name"] for r in await conn.fetch(_EXISTING, names)}

    async def insert(
        self,
        conn: asyncpg.Connection,
        name: str,
        description: str,
        scopes: list[str],
        requires_mfa: bool = False,
    ) -> Role:
        """Raises ``RoleExists`` when the name is taken."""
        try:
            role = _role(await conn.fetchrow(_INSERT, name, description, scopes, requires_mfa))
        except asyncpg.UniqueViolationError:
            raise RoleExists(name) from None
        assert role is not None
        return role

    async def update(
        self,
        conn: asyncpg.Connection,
        name: str,
        *,
        new_name: str | None,
        description: str | None,
        scopes: list[str] | None,
        requires_mfa: bool | None = None,
    ) -> Role | None:
        """``None`` when there is no role ``name``; raises ``RoleExists`` when ``new_name`` is taken."""
        try:
            return _role(await conn.fetchrow(_UPDATE, name, new_name, description, scopes, requires_mfa))
        except asyncpg.UniqueViolationError:
            raise RoleExists(new_name or name) from None

    async def delete(self, conn: asyncpg.Connection, name: str) -> bool:
        return await conn.execute(_DELETE, name) == "DELETE 1"

    async def assign(self, conn: asyncpg.Connection, user_id: UUID, name: str) -> None:
        try:
            await conn.execute(_ASSIGN, user_id, name)
        except asyncpg.ForeignKeyViolationError:  # the user was deleted since the caller read it
            raise UserNotFound() from None

    async def unassign(self, conn: asyncpg.Connection, user_id: UUID, name: str) -> bool:
        return await conn.execute(_UNASSIGN, user_id, name) == "DELETE 1"

    async def holders(self, conn: asyncpg.Connection, name: str) -> int:
        return int(await conn.fetchval(_HOLDERS, name))

    async def scopes_of(self, conn: asyncpg.Connection, names: list[str]) -> set[str]:
        """Every scope the roles ``names`` grant together."""
        return {r[0] for r in await conn.fetch(_SCOPES_OF, names)}

    async def restore(
        self, conn: asyncpg.Connection, name: str, description: str, scopes: list[str], *, requires_mfa: bool
    ) -> None:
        """Role ``name`` with exactly ``scopes`` and ``requires_mfa``: created if missing (its
        description kept if not)."""
        await conn.execute(_RESTORE, name, description, scopes, requires_mfa)
