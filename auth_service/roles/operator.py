"""The ``roles`` operator commands: list roles and set their second-factor policy, outside HTTP.

Audited as the ``operator`` (unbounded powers: it runs with database access), through the same
``RoleService`` as the admin API, so a change is the same change whichever door made it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from auth_service.audit.service import Actor, AuditTrail
from auth_service.powers.service import OPERATOR_ID
from auth_service.resources.registry import ResourceRegistry
from auth_service.revocations.service import Revoker
from auth_service.roles.schemas import Role, RoleUpdate
from auth_service.roles.service import RoleService
from auth_service.settings import AuthSettings
from shared.db.pool import PostgresPool

__all__ = ["list_roles", "set_role_mfa"]

OPERATOR = Actor(id=OPERATOR_ID)


@asynccontextmanager
async def _service(settings: AuthSettings) -> AsyncIterator[RoleService]:
    """Revocations a change records are kept as long as the longest access token lives now."""
    pool = PostgresPool(settings.database.database_url, min_size=1, max_size=2)
    try:
        registry = ResourceRegistry(pool, interval=settings.oauth.resource_refresh_interval)
        await registry.refresh()
        default_ttl = settings.tokens.access_token_ttl
        yield RoleService(pool, AuditTrail(pool), Revoker(lambda: registry.longest_ttl(default_ttl)))
    finally:
        await pool.close()


async def list_roles(settings: AuthSettings) -> list[Role]:
    async with _service(settings) as roles:
        return await roles.all()


async def set_role_mfa(settings: AuthSettings, name: str, required: bool) -> Role:
    """Raises ``RoleNotFound``."""
    async with _service(settings) as roles:
        return await roles.update(name, RoleUpdate(requires_mfa=required), OPERATOR)
