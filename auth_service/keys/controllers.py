"""``/api/1/admin/keys``: the signing keys' states, and rotation on demand (scope ``users:manage``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import State

from auth_service.actors import request_actor
from auth_service.audit.service import AuditTrail
from auth_service.keys.repository import SigningKeyRow
from auth_service.keys.service import SigningKeys
from auth_service.openapi_problems import ADMIN_ERRORS

__all__ = ["AdminKeysController", "SigningKey"]


class SigningKey(msgspec.Struct, frozen=True):
    kid: str
    alg: str
    state: str
    created_at: datetime
    activate_at: datetime
    activated_at: datetime | None
    retired_at: datetime | None
    remove_at: datetime | None


class Rotation(msgspec.Struct, frozen=True):
    active: str | None
    pending: str | None
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
    )


class AdminKeysController(Controller):
    path = "/keys"
    tags = ["Admin: signing keys"]

    @get(
        "/",
        operation_id="adminListKeys",
        responses=ADMIN_ERRORS,
        summary="Signing keys: next, active, retired",
    )
    async def list_keys(self, state: State) -> list[SigningKey]:
        keys: SigningKeys = state.signing_keys
        await keys.keyring.refresh()
        return [_key(row) for row in keys.list()]

    @post(
        "/rotate",
        operation_id="adminRotateKeys",
        responses=ADMIN_ERRORS,
        summary="Publish a new key now; it signs after the pre-publication period",
        status_code=202,
    )
    async def rotate(self, request: Request[Any, Any, State], state: State) -> Rotation:
        keys: SigningKeys = state.signing_keys
        audit: AuditTrail = state.audit
        outcome = await keys.rotate()
        await audit.record(
            "keys.rotate", request_actor(request), target_type="signing_key", target_id=outcome.pending
        )
        return Rotation(
            active=outcome.active, pending=outcome.pending, keys=[_key(row) for row in keys.list()]
        )
