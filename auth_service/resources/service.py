"""Resource-server rules: the auth service's own API is managed, a scope still held stays; audited.

A role holding every admin scope can administer everything, so it also holds every resource
server's scopes: they are added to it when registered and taken from it when dropped (otherwise
nobody could hand out a new resource's scopes, since nobody may grant what they do not hold).

Every change reloads this replica's ``ResourceRegistry`` once committed, so the next token request
here sees it (other replicas within ``AUTH_RESOURCE_REFRESH_INTERVAL``).
"""

from __future__ import annotations

import msgspec

from auth_service.audit.service import Actor, AuditTrail
from auth_service.errors import ManagedResource, ResourceServerNotFound, ScopeInUse
from auth_service.powers.service import ADMIN_SCOPES
from auth_service.resources.registry import ResourceRegistry
from auth_service.resources.repository import ResourceServerRepository
from auth_service.resources.schemas import ResourceServer, ResourceServerCreate, ResourceServerUpdate
from shared.db.pool import Connection, PostgresPool

__all__ = ["ResourceServerService"]

_ADMIN_SCOPES = sorted(ADMIN_SCOPES)


class ResourceServerService:
    __slots__ = ("_audit", "_pool", "_registry", "_repo")

    def __init__(self, pool: PostgresPool, audit: AuditTrail, registry: ResourceRegistry) -> None:
        self._pool = pool
        self._audit = audit
        self._registry = registry
        self._repo = ResourceServerRepository()

    async def all(self) -> list[ResourceServer]:
        async with self._pool.acquire() as conn:
            return await self._repo.all(conn)

    async def get(self, identifier: str) -> ResourceServer:
        async with self._pool.acquire() as conn:
            server = await self._repo.get(conn, identifier)
        if server is None:
            raise ResourceServerNotFound()
        return server

    async def create(self, data: ResourceServerCreate, actor: Actor) -> ResourceServer:
        scopes = sorted(set(data.scopes))
        async with self._pool.acquire() as conn, conn.transaction():
            server = await self._repo.insert(conn, data.identifier, data.name, data.access_token_ttl, scopes)
            await self._repo.give_to_full_admins(conn, scopes, _ADMIN_SCOPES)
            await self._audit.record(
                "resource_server.create",
                actor,
                target_type="resource_server",
                target_id=data.identifier,
                details={"scopes": scopes, "access_token_ttl": data.access_token_ttl},
                conn=conn,
            )
        await self._registry.refresh()
        return server

    async def update(self, identifier: str, data: ResourceServerUpdate, actor: Actor) -> ResourceServer:
        """A scope dropped from the list must not be held by any role or client (``ScopeInUse``)."""
        async with self._pool.acquire() as conn, conn.transaction():
            current = await self._changeable(conn, identifier)
            details: dict[str, object] = {}
            if data.scopes is not None:
                wanted = set(data.scopes)
                removed, added = sorted(set(current.scopes) - wanted), sorted(wanted - set(current.scopes))
                await self._repo.take_from_full_admins(conn, removed, _ADMIN_SCOPES)
                await self._not_held(conn, removed)
                await self._repo.drop_scopes(conn, identifier, removed)
                await self._repo.add_scopes(conn, identifier, added)
                await self._repo.give_to_full_admins(conn, added, _ADMIN_SCOPES)
                details["scopes"] = sorted(wanted)
            ttl_given = data.access_token_ttl is not msgspec.UNSET
            ttl = None if isinstance(data.access_token_ttl, msgspec.UnsetType) else data.access_token_ttl
            await self._repo.update(conn, identifier, name=data.name, ttl=(ttl_given, ttl))
            if data.name is not None:
                details["name"] = data.name
            if ttl_given:
                details["access_token_ttl"] = ttl
            server = await self._repo.get(conn, identifier)
            await self._audit.record(
                "resource_server.update",
                actor,
                target_type="resource_server",
                target_id=identifier,
                details=details,
                conn=conn,
            )
        await self._registry.refresh()
        assert server is not None
        return server

    async def delete(self, identifier: str, actor: Actor) -> None:
        """Its scopes go with it, so none may still be held; clients lose it from their resources."""
        async with self._pool.acquire() as conn, conn.transaction():
            current = await self._changeable(conn, identifier)
            await self._repo.take_from_full_admins(conn, current.scopes, _ADMIN_SCOPES)
            await self._not_held(conn, current.scopes)
            await self._repo.delete(conn, identifier)
            await self._audit.record(
                "resource_server.delete",
                actor,
                target_type="resource_server",
                target_id=identifier,
                conn=conn,
            )
        await self._registry.refresh()

    async def _changeable(self, conn: Connection, identifier: str) -> ResourceServer:
        """The row, locked until the transaction ends; the managed one is refused."""
        server = await self._repo.get(conn, identifier, for_update=True)
        if server is None:
            raise ResourceServerNotFound()
        if server.managed:
            raise ManagedResource()
        return server

    async def _not_held(self, conn: Connection, scopes: list[str]) -> None:
        held = await self._repo.held(conn, scopes) if scopes else []
        if held:
            raise ScopeInUse(held)
