"""``/api/1/admin/users/{id}/factors``: a person's second factors, listed and reset (``admin:users``).

Mounted in the admin router's ``admin:users`` area. The list names kinds and dates only (never a
secret, never a code); ``DELETE`` removes every factor and ends every session of the person
(``FactorAdministration.reset``), audited; it answers what was removed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Router, delete, get
from litestar.params import FromPath

from auth_service.actors import RequestActors
from auth_service.factors.admin import FactorAdministration, FactorReset
from auth_service.factors.service import FactorInfo
from auth_service.openapi_problems import ADMIN_ERRORS

__all__ = ["FactorBody", "admin_factors_router"]

ADMIN_TAGS = ["Admin: users"]


class FactorBody(msgspec.Struct, frozen=True):
    """One second factor: ``kind`` is ``totp``, ``recovery_codes`` or ``passkey``; ``remaining``
    counts unspent recovery codes; ``id`` names one of several of a kind (passkeys)."""

    kind: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    remaining: int | None = None
    id: str | None = None


def _bodies(factors: list[FactorInfo]) -> list[FactorBody]:
    return [msgspec.convert(factor, FactorBody, from_attributes=True) for factor in factors]


def admin_factors_router(admin: FactorAdministration, actors: RequestActors) -> Router:
    @get(
        "/users/{user_id:uuid}/factors",
        operation_id="adminListFactors",
        responses=ADMIN_ERRORS,
        summary="A user's second factors (kinds, names, dates; never a secret)",
    )
    async def list_factors(user_id: FromPath[UUID]) -> list[FactorBody]:
        return _bodies(await admin.of_user(user_id))

    @delete(
        "/users/{user_id:uuid}/factors",
        operation_id="adminResetFactors",
        responses=ADMIN_ERRORS,
        summary="Remove every second factor of a user and end their sessions (only an account "
        "within your powers)",
        status_code=200,
    )
    async def reset_factors(request: Request[Any, Any, Any], user_id: FromPath[UUID]) -> FactorReset:
        return await admin.reset(user_id, actors.of(request))

    return Router("/", route_handlers=[list_factors, reset_factors], tags=ADMIN_TAGS)
