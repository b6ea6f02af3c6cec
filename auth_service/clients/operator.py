"""The ``clients`` operator commands: register, change and list clients outside HTTP.

An app is registered at deploy time with database access (``python -m auth_service clients create
...``), audited as the ``operator``, whose powers are unbounded; the same rules as the admin API
apply (``ClientService``), and running replicas see a change within ``AUTH_CLIENT_CACHE_TTL``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from auth_service.audit.service import Actor, AuditTrail
from auth_service.clients.directory import ClientDirectory
from auth_service.clients.schemas import Client, ClientCreate, ClientUpdate, ClientWithSecret
from auth_service.clients.service import ClientService
from auth_service.powers.service import OPERATOR_ID
from auth_service.resources.registry import ResourceRegistry
from auth_service.revocations.service import Revoker
from auth_service.settings import AuthSettings
from shared.db.pool import PostgresPool

__all__ = ["list_clients", "register_client", "update_client"]

OPERATOR = Actor(id=OPERATOR_ID)


@asynccontextmanager
async def _service(settings: AuthSettings) -> AsyncIterator[ClientService]:
    pool = PostgresPool(settings.database.database_url, min_size=1, max_size=2)
    try:
        registry = ResourceRegistry(pool, interval=settings.oauth.resource_refresh_interval)
        await registry.refresh()
        default_ttl = settings.tokens.access_token_ttl
        revoker = Revoker(lambda: registry.longest_ttl(default_ttl))
        directory = ClientDirectory(pool, ttl=settings.oauth.client_cache_ttl)
        development = settings.oidc.environment == "development"
        yield ClientService(pool, AuditTrail(pool), directory, revoker, development=development)
    finally:
        await pool.close()


async def register_client(settings: AuthSettings, data: ClientCreate) -> ClientWithSecret:
    """Raises the registration's domain errors (``InvalidField``, ``ClientExists``) for the CLI."""
    async with _service(settings) as clients:
        return await clients.create(data, OPERATOR)


async def update_client(settings: AuthSettings, client_id: str, data: ClientUpdate) -> Client:
    async with _service(settings) as clients:
        return await clients.update(client_id, data, OPERATOR)


async def list_clients(settings: AuthSettings) -> list[Client]:
    async with _service(settings) as clients:
        found: list[Client] = []
        while page := await clients.page(found[-1].client_id if found else None, 200):
            found.extend(page)
        return found
