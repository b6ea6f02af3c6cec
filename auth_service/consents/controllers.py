"""Consents in the API: what a person allowed each third-party app, listed and taken back.

Taking a consent back (by the person or an admin) also ends the person's sessions with that app
(``Consents.revoke``, audited): the app's refresh tokens stop working, and its next login asks
again. An unknown user, or no consent for that client, is a 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Router, delete, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from auth_service.actors import RequestActors
from auth_service.browser_sessions.controllers import token_user
from auth_service.consents.service import Consent, Consents
from auth_service.errors import NotFound
from auth_service.openapi_problems import ADMIN_ERRORS, problems
from auth_service.users.service import UserService

__all__ = ["ConsentInfo", "ConsentNotFound", "admin_consents_router", "my_consents_handlers"]

ADMIN_TAGS = ["Admin: users"]


class ConsentNotFound(NotFound):
    subject = "consent for this client"


class ConsentInfo(msgspec.Struct, frozen=True):
    """The scopes a person allowed one app, first given at ``granted_at``, last widened at ``updated_at``."""

    client_id: str
    client_name: str
    scopes: list[str]
    granted_at: datetime
    updated_at: datetime


def _bodies(records: list[Consent]) -> list[ConsentInfo]:
    return [msgspec.convert(record, ConsentInfo, from_attributes=True) for record in records]


def admin_consents_router(consents: Consents, users: UserService, actors: RequestActors) -> Router:
    """``/users/{id}/consents[/{client_id}]`` in the admin router's ``admin:users`` area."""

    @get(
        "/users/{user_id:uuid}/consents",
        operation_id="adminListConsents",
        responses=ADMIN_ERRORS,
        summary="The apps a user consented to, and the scopes",
    )
    async def list_for_user(user_id: FromPath[UUID]) -> list[ConsentInfo]:
        await users.get(user_id)  # UserNotFound
        return _bodies(await consents.of_user(user_id))

    @delete(
        "/users/{user_id:uuid}/consents/{client_id:str}",
        operation_id="adminRevokeConsent",
        responses=ADMIN_ERRORS,
        summary="Take back a user's consent to an app; the user's sessions with it end",
    )
    async def revoke(
        request: Request[Any, Any, Any], user_id: FromPath[UUID], client_id: FromPath[str]
    ) -> None:
        await users.get(user_id)  # UserNotFound
        if not await consents.revoke(user_id, client_id, actors.of(request)):
            raise ConsentNotFound()

    return Router("/", route_handlers=[list_for_user, revoke], tags=ADMIN_TAGS)


def my_consents_handlers(consents: Consents, actors: RequestActors) -> list[HTTPRouteHandler]:
    """``/consents`` under ``/api/1/users/me``: the token's person's own consents."""

    @get(
        "/consents",
        operation_id="listMyConsents",
        summary="The apps you consented to, and the scopes",
        responses=problems(401, 403, 503),
    )
    async def list_mine(request: Request[Any, Any, Any]) -> list[ConsentInfo]:
        return _bodies(await consents.of_user(token_user(request)))

    @delete(
        "/consents/{client_id:str}",
        operation_id="revokeMyConsent",
        summary="Take back your consent to an app; your sessions with it end",
        responses=problems(401, 403, 404, 503),
    )
    async def revoke_mine(request: Request[Any, Any, Any], client_id: FromPath[str]) -> None:
        if not await consents.revoke(token_user(request), client_id, actors.of(request)):
            raise ConsentNotFound()

    return [list_mine, revoke_mine]
