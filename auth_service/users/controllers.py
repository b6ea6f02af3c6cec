"""``/api/1/users``: self-registration (off by default) and self-service for the token's user."""

from __future__ import annotations

import base64
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import Body

from auth_service.actors import client_ip, request_actor
from auth_service.audit.service import Actor
from auth_service.errors import Forbidden
from auth_service.openapi_problems import problems
from auth_service.throttling.answers import within_limit
from auth_service.throttling.client_address import address_bucket
from auth_service.throttling.limits import Throttles
from auth_service.users.schemas import PasswordChange, Registration, User, UserCreate
from auth_service.users.service import UserService
from shared.auth.litestar import current_claims

__all__ = ["RegistrationController", "SelfServiceController"]


def _user_id(request: Request[Any, Any, Any]) -> UUID:
    claims = current_claims(request)
    try:
        return UUID(claims.sub)
    except ValueError:
        raise Forbidden("not-a-user", "This token speaks for a client, not a user.") from None


def _session_id(request: Request[Any, Any, Any]) -> UUID | None:
    """The ``sid`` claim of the (already verified) bearer token: the session to keep."""
    token = request.headers.get("authorization", "").partition(" ")[2]
    try:
        payload = token.split(".")[1]
        claims = msgspec.json.decode(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return UUID(claims["sid"]) if isinstance(claims, dict) and "sid" in claims else None
    except (IndexError, ValueError, KeyError, msgspec.DecodeError):
        return None


class RegistrationController(Controller):
    path = "/api/1/users"
    tags = ["Users"]

    @post(
        "/",
        operation_id="register",
        summary="Self-registration (when enabled): a new account with the viewer role",
        opt={"exclude_from_auth": True},
        responses=problems(400, 403, 409, 413, 415, 422, 429, 503),
    )
    async def register(
        self, request: Request[Any, Any, State], state: State, data: Annotated[Registration, Body()]
    ) -> User:
        if not state.settings.registration_enabled:
            raise Forbidden("registration-disabled", "Self-registration is disabled on this server.")
        users: UserService = state.user_service
        throttles: Throttles = state.throttles
        actor = Actor(id=None, source_ip=client_ip(request))
        await within_limit(throttles.registration, address_bucket(actor.source_ip))
        return await users.create(
            UserCreate(email=data.email, password=data.password, roles=["viewer"]),
            actor,
            action="user.register",
        )


class SelfServiceController(Controller):
    path = "/api/1/users/me"
    tags = ["Users"]
    security = [{"bearer": []}]

    @get("/", operation_id="getMe", summary="The token's user", responses=problems(401, 403, 404, 503))
    async def me(self, request: Request[Any, Any, State], state: State) -> User:
        users: UserService = state.user_service
        return await users.get(_user_id(request))

    @post(
        "/password",
        operation_id="changeMyPassword",
        summary="Change your password; your other sessions end",
        status_code=204,
        responses=problems(400, 401, 403, 413, 415, 422, 429, 503),
    )
    async def change_password(
        self, request: Request[Any, Any, State], state: State, data: Annotated[PasswordChange, Body()]
    ) -> None:
        users: UserService = state.user_service
        throttles: Throttles = state.throttles
        user_id = _user_id(request)
        await within_limit(throttles.password_change, str(user_id))
        await users.change_password(
            user_id,
            data.current_password,
            data.new_password,
            request_actor(request),
            _session_id(request),
        )
