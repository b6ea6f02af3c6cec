"""``/api/1/admin/users``: accounts, their roles and their sessions (scope ``users:manage``)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.params import Body, FromPath, FromQuery, Parameter

from auth_service.actors import request_actor
from auth_service.errors import NotFound
from auth_service.openapi_problems import ADMIN_BODY_ERRORS, ADMIN_ERRORS
from auth_service.roles.service import RoleService
from auth_service.tokens.families import Family
from auth_service.tokens.sessions import SessionService
from auth_service.users.schemas import PasswordReset, User, UserCreate, UserPage, UserUpdate
from auth_service.users.service import UserService

__all__ = ["AdminSessionsController", "AdminUsersController"]

Limit = Annotated[int, Parameter(ge=1, le=200, description="Page size")]


class AdminUsersController(Controller):
    path = "/users"
    tags = ["Admin: users"]

    @get(
        "/",
        operation_id="adminListUsers",
        responses=ADMIN_ERRORS,
        summary="List users by email, a page at a time",
    )
    async def list_users(
        self, state: State, limit: Limit = 50, cursor: FromQuery[str | None] = None
    ) -> UserPage:
        users: UserService = state.user_service
        return await users.page(cursor, limit)

    @post(
        "/",
        operation_id="adminCreateUser",
        responses=ADMIN_BODY_ERRORS,
        summary="Create a user (password policy applies)",
    )
    async def create_user(
        self, request: Request[Any, Any, State], state: State, data: Annotated[UserCreate, Body()]
    ) -> User:
        users: UserService = state.user_service
        return await users.create(data, request_actor(request))

    @get("/{user_id:uuid}", operation_id="adminGetUser", responses=ADMIN_ERRORS, summary="Get a user")
    async def get_user(self, state: State, user_id: FromPath[UUID]) -> User:
        users: UserService = state.user_service
        return await users.get(user_id)

    @patch(
        "/{user_id:uuid}",
        operation_id="adminUpdateUser",
        responses=ADMIN_BODY_ERRORS,
        summary="Change email, status or roles",
    )
    async def update_user(
        self,
        request: Request[Any, Any, State],
        state: State,
        user_id: FromPath[UUID],
        data: Annotated[UserUpdate, Body()],
    ) -> User:
        users: UserService = state.user_service
        return await users.update(user_id, data, request_actor(request))

    @post(
        "/{user_id:uuid}/disable",
        operation_id="adminDisableUser",
        responses=ADMIN_ERRORS,
        summary="Disable; ends every session",
    )
    async def disable_user(
        self, request: Request[Any, Any, State], state: State, user_id: FromPath[UUID]
    ) -> User:
        users: UserService = state.user_service
        return await users.update(user_id, UserUpdate(status="disabled"), request_actor(request))

    @post(
        "/{user_id:uuid}/enable",
        operation_id="adminEnableUser",
        responses=ADMIN_ERRORS,
        summary="Enable a disabled user",
    )
    async def enable_user(
        self, request: Request[Any, Any, State], state: State, user_id: FromPath[UUID]
    ) -> User:
        users: UserService = state.user_service
        return await users.update(user_id, UserUpdate(status="active"), request_actor(request))

    @delete(
        "/{user_id:uuid}",
        operation_id="adminDeleteUser",
        responses=ADMIN_ERRORS,
        summary="Delete a user and their sessions",
    )
    async def delete_user(
        self, request: Request[Any, Any, State], state: State, user_id: FromPath[UUID]
    ) -> None:
        users: UserService = state.user_service
        await users.delete(user_id, request_actor(request))

    @post(
        "/{user_id:uuid}/password",
        operation_id="adminResetPassword",
        responses=ADMIN_BODY_ERRORS,
        summary="Set a new password; ends every session",
        status_code=204,
    )
    async def reset_password(
        self,
        request: Request[Any, Any, State],
        state: State,
        user_id: FromPath[UUID],
        data: Annotated[PasswordReset, Body()],
    ) -> None:
        users: UserService = state.user_service
        await users.reset_password(user_id, data.password, request_actor(request))

    @put(
        "/{user_id:uuid}/roles/{role:str}",
        operation_id="adminAssignRole",
        responses=ADMIN_ERRORS,
        summary="Assign a role",
        status_code=204,
    )
    async def assign_role(
        self, request: Request[Any, Any, State], state: State, user_id: FromPath[UUID], role: FromPath[str]
    ) -> None:
        roles: RoleService = state.role_service
        await roles.assign(user_id, role, request_actor(request))

    @delete(
        "/{user_id:uuid}/roles/{role:str}",
        operation_id="adminUnassignRole",
        responses=ADMIN_ERRORS,
        summary="Remove a role",
    )
    async def unassign_role(
        self, request: Request[Any, Any, State], state: State, user_id: FromPath[UUID], role: FromPath[str]
    ) -> None:
        roles: RoleService = state.role_service
        await roles.unassign(user_id, role, request_actor(request))

    @get(
        "/{user_id:uuid}/sessions",
        operation_id="adminListSessions",
        responses=ADMIN_ERRORS,
        summary="A user's live sessions",
    )
    async def list_sessions(self, state: State, user_id: FromPath[UUID]) -> list[Family]:
        users: UserService = state.user_service
        await users.get(user_id)
        sessions: SessionService = state.session_service
        return await sessions.for_user(user_id)


class AdminSessionsController(Controller):
    path = "/sessions"
    tags = ["Admin: users"]

    @delete(
        "/{session_id:uuid}",
        operation_id="adminRevokeSession",
        responses=ADMIN_ERRORS,
        summary="Revoke a session (refresh family) and its live access tokens",
    )
    async def revoke_session(
        self, request: Request[Any, Any, State], state: State, session_id: FromPath[UUID]
    ) -> None:
        sessions: SessionService = state.session_service
        if await sessions.get(session_id) is None:
            raise NotFound("session")
        await sessions.revoke_by_admin(session_id, request_actor(request))
