"""``/api/1/admin/keys``: the signing keys' states, rotation on demand and emergency revocation
(scope ``admin:keys``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Request, Router, get, post
from litestar.params import FromPath

from auth_service.actors import RequestActors
from auth_service.keys.repository import SigningKeyRow
from auth_service.keys.service import SigningKeys
from auth_service.openapi_problems import ADMIN_ERRORS

__all__ = ["SigningKey", "admin_keys_router"]


class SigningKey(msgspec.Struct, frozen=True):
    kid: str
    alg: str
    state: str
    created_at: datetime
    activate_at: datetime
    activated_at: datetime | None
    retired_at: datetime | None
    remove_at: datetime | None
    revoked_at: datetime | None


class Rotation(msgspec.Struct, frozen=True):
    active: str | None
    pending: str | None
    keys: list[SigningKey]


class Revocation(msgspec.Struct, frozen=True):
    revoked: str
    """The revoked kid: it signs nothing and is no longer in the JWKS."""
    active: str | None
    """The kid that signs from now on."""
    revoked_at: datetime | None
    already_revoked: bool
    """True when the key was revoked before: nothing changed (``revoked_at`` is that first time)."""
    keys: list[SigningKey]


def _key(row: SigningKeyRow) -> SigningKey:
    return SigningKey(
        kid=row.kid,
        alg=row.alg,
        state=row.state,
        created_at=row.created_at,
        activate_at=row.activate_at,
        activated_at=row.activated_at,
        retired_at=row.retired_at,
        remove_at=row.remove_at,
        revoked_at=row.revoked_at,
    )


def admin_keys_router(keys: SigningKeys, actors: RequestActors) -> Router:
    @get(
        "/",
        operation_id="adminListKeys",
        responses=ADMIN_ERRORS,
        summary="Signing keys: next, active, retired",
    )
    async def list_keys() -> list[SigningKey]:
        return [_key(row) for row in await keys.current()]

    @post(
        "/rotate",
        operation_id="adminRotateKeys",
        responses=ADMIN_ERRORS,
        summary="Publish a new key now; it signs after the pre-publication period",
        status_code=202,
    )
    async def rotate(request: Request[Any, Any, Any]) -> Rotation:
        outcome = await keys.rotate(actors.of(request))
        return Rotation(
            active=outcome.active, pending=outcome.pending, keys=[_key(row) for row in keys.loaded()]
        )

    @post(
        "/{kid:str}/revoke",
        operation_id="adminRevokeKey",
        responses=ADMIN_ERRORS,
        summary="Emergency revocation: the key stops signing and leaves the JWKS now",
        description=(
            "A replacement signs at once (the pending key, else a fresh one, without pre-publication); "
            "verifiers drop the key and refuse its tokens within seconds. Revoking a revoked key "
            "changes nothing and answers 200 with `already_revoked`. Unknown kid: 404."
        ),
        status_code=200,
    )
    async def revoke(request: Request[Any, Any, Any], kid: FromPath[str]) -> Revocation:
        outcome = await keys.revoke(kid, actors.of(request))
        return Revocation(
            revoked=outcome.revoked,
            active=outcome.active,
            revoked_at=outcome.revoked_at,
            already_revoked=outcome.already_revoked,
            keys=[_key(row) for row in keys.loaded()],
        )

    return Router("/keys", route_handlers=[list_keys, rotate, revoke], tags=["Admin: signing keys"])
