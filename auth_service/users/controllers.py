"""``/api/1/users``: self-registration (off by default) and self-service for the token's user."""

from __future__ import annotations

import base64
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.params import Body

from auth_service.actors import RequestActors
from auth_service.openapi_problems import problems
from auth_service.users.schemas import PasswordChange, Registration, User
from auth_service.users.self_service import SelfService
from shared.auth.litestar import current_claims

__all__ = ["user_routers"]


def _session_id(request: Request[Any, Any, Any]) -> UUID | None:
    """The ``sid`` claim of the (already verified) bearer token: the session to keep."""
    token = request.headers.get("authorization", "").partition(" ")[2]
    try:
        payload = token.split(".")[1]
        claims = msgspec.json.decode(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return UUID(claims["sid"]) if isinstance(claims, dict) and "sid" in claims else None
    except (IndexError, ValueError, KeyError, msgspec.DecodeError):
        return None


def user_routers(accounts: SelfService, actors: RequestActors) -> list[Router]:
    """``/api/1/users`` (public registration) and ``/api/1/users/me`` (the bearer token's user)."""

    @post(
        "/",
        operation_id="register",
        summary="Self-registration (when enabled): a new account with the viewer role",
        opt={"exclude_from_auth": True},
        responses=problems(400, 403, 409, 413, 415, 422, 429, 503),
    )
    async def register(request: Request[Any, Any, Any], data: Annotated[Registration, Body()]) -> User:
        return await accounts.register(data, actors.client_ip(request))

    @get("/", operation_id="getMe", summary="The token's user", responses=problems(401, 403, 404, 503))
    async def me(request: Request[Any, Any, Any]) -> User:
        return await accounts.me(current_claims(request).sub)

    @post(
        "/password",
        operation_id="changeMyPassword",
        summary="Change your password; your other sessions end",
        status_code=204,
        responses=problems(400, 401, 403, 413, 415, 422, 429, 503),
    )
    async def change_password(
        request: Request[Any, Any, Any], data: Annotated[PasswordChange, Body()]
    ) -> None:
        subject = current_claims(request).sub
        await accounts.change_password(subject, data, actors.of(request), _session_id(request))

    return [
        Router("/api/1/users", route_handlers=[register], tags=["Users"]),
        Router(
            "/api/1/users/me", route_handlers=[me, change_password], tags=["Users"], security=[{"bearer": []}]
        ),
    ]
