"""The ``resource-servers`` operator commands: register and list, outside HTTP.

A new service registers itself at deploy time with database access (``python -m auth_service
resource-servers create ...``), audited as the ``operator``, whose powers are unbounded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from auth_service.audit.service import Actor, AuditTrail
from auth_service.powers.service import OPERATOR_ID
from auth_service.resources.registry import ResourceRegistry
from auth_service.resources.schemas import ResourceServer, ResourceServerCreate
from auth_service.resources.service import ResourceServerService
from auth_service.settings import AuthSettings
from shared.db.pool import PostgresPool

__all__ = ["list_resource_servers", "register_resource_server"]

OPERATOR = Actor(id=OPERATOR_ID)


@asynccontextmanager
async def _service(settings: AuthSettings) -> AsyncIterator[ResourceServerService]:
    pool = PostgresPool(settings.database.database_url, min_size=1, max_size=2)
    try:
        registry = ResourceRegistry(pool, interval=settings.oauth.resource_refresh_interval)
        yield ResourceServerService(pool, AuditTrail(pool), registry)
    finally:
        await pool.close()


async def register_resource_server(settings: AuthSettings, data: ResourceServerCreate) -> ResourceServer:
    """Raises ``ResourceServerExists`` or ``ScopeTaken`` (domain errors the CLI reports)."""
    async with _service(settings) as servers:
        return await servers.create(data, OPERATOR)


async def list_resource_servers(settings: AuthSettings) -> list[ResourceServer]:
    async with _service(settings) as servers:
        return await servers.all()
