"""Every resource server and the scopes it owns, held in memory: the token endpoint's view.

Audience resolution runs on every token request, so it reads a snapshot instead of the database:
loaded when the app starts, reloaded every ``AUTH_RESOURCE_REFRESH_INTERVAL`` seconds (changes
made on another replica) and at once after a change made through this replica. A snapshot is
immutable and replaced whole, so a request sees one consistent version.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from auth_service.resources.repository import ResourceServerRepository
from auth_service.resources.schemas import ResourceServer
from shared.db.pool import PostgresPool
from shared.periodic import PeriodicRefresh

__all__ = ["RegisteredResource", "ResourceRegistry", "ResourceSnapshot"]


class RegisteredResource(msgspec.Struct, frozen=True):
    identifier: str
    scopes: frozenset[str]
    access_token_ttl: int | None


class ResourceSnapshot(msgspec.Struct, frozen=True):
    resources: dict[str, RegisteredResource]
    owners: dict[str, str]
    """scope -> the identifier of the resource server owning it."""

    @classmethod
    def of(cls, servers: Iterable[ResourceServer]) -> ResourceSnapshot:
        resources = {
            s.identifier: RegisteredResource(s.identifier, frozenset(s.scopes), s.access_token_ttl)
            for s in servers
        }
        owners = {scope: r.identifier for r in resources.values() for scope in r.scopes}
        return cls(resources=resources, owners=owners)


class ResourceRegistry:
    """One replica's snapshot of the resource servers."""

    __slots__ = ("_pool", "_repo", "_snapshot", "_timer", "version")

    def __init__(self, pool: PostgresPool, *, interval: float) -> None:
        self._pool = pool
        self._repo = ResourceServerRepository()
        self._snapshot = ResourceSnapshot(resources={}, owners={})
        self._timer = PeriodicRefresh("resource servers", self.refresh, interval=interval)
        self.version = 0
        """Grows by one whenever the content changes (discovery re-encodes its document then)."""

    def owner_of(self, scope: str) -> str | None:
        return self._snapshot.owners.get(scope)

    def get(self, identifier: str) -> RegisteredResource | None:
        return self._snapshot.resources.get(identifier)

    @property
    def scopes(self) -> list[str]:
        """Every scope some resource server owns, sorted."""
        return sorted(self._snapshot.owners)

    def owned_by(self, identifiers: Iterable[str]) -> set[str]:
        """The scopes the resource servers ``identifiers`` own together."""
        found = (self._snapshot.resources.get(i) for i in identifiers)
        return set().union(*(r.scopes for r in found if r is not None))

    def longest_ttl(self, default: int) -> int:
        """The longest lifetime any token may get (``default`` for resources without their own)."""
        return max([default, *(r.access_token_ttl or default for r in self._snapshot.resources.values())])

    async def refresh(self) -> None:
        async with self._pool.acquire() as conn:
            snapshot = ResourceSnapshot.of(await self._repo.all(conn))
        if snapshot != self._snapshot:
            self._snapshot = snapshot
            self.version += 1

    async def start(self) -> None:
        await self._timer.start()

    async def stop(self) -> None:
        await self._timer.stop()
