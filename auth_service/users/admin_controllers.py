"""``/api/1/admin/users``: accounts, their roles and their sessions (scope ``admin:users``)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Router, delete, get, patch, post, put
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromPath, FromQuery, Parameter

from auth_service.actors import RequestActors
from auth_service.openapi_problems import ADMIN_BODY_ERRORS, ADMIN_ERRORS
from auth_service.roles.service import RoleService
from auth_service.users.schemas import Family, PasswordReset, User, UserCreate, UserPage, UserUpdate
from auth_service.users.service import UserService
from auth_service.users.sessions import UserSessions

__all__ = ["admin_sessions_router", "admin_users_router"]

Limit = Annotated[int, Parameter(ge=1, le=200, description="Page size")]
TAGS = ["Admin: users"]


def admin_users_router(
    users: UserService, roles: RoleService, sessions: UserSessions, actors: RequestActors
) -> Router:
    """The account routes, to be mounted under the admin router (which checks scopes)."""

    @get(
        "/{user_id:uuid}/sessions",
        operation_id="adminListSessions",
        responses=ADMIN_ERRORS,
        summary="A user's live sessions",
    )
    async def list_sessions(user_id: FromPath[UUID]) -> list[Family]:
        return await sessions.of_user(user_id)

    handlers = [
        *_accounts(users, actors),
        *_account_states(users, actors),
        *_role_assignments(roles, actors),
        list_sessions,
    ]
    return Router("/users", route_handlers=handlers, tags=TAGS)


def admin_sessions_router(sessions: UserSessions, actors: RequestActors) -> Router:
    """``/sessions/{id}``: one session by its own id, whoever holds it."""

    @delete(
        "/{session_id:uuid}",
        operation_id="adminRevokeSession",
        responses=ADMIN_ERRORS,
        summary="Revoke a session (refresh family) and its live access tokens",
    )
    async def revoke_session(request: Request[Any, Any, Any], session_id: FromPath[UUID]) -> None:
        await sessions.revoke(session_id, actors.of(request))

    return Router("/sessions", route_handlers=[revoke_session], tags=TAGS)


def _accounts(users: UserService, actors: RequestActors) -> list[HTTPRouteHandler]:
    @get(
        "/",
        operation_id="adminListUsers",
        responses=ADMIN_ERRORS,
        summary="List users by email, a page at a time",
    )
    async def list_users(limit: Limit = 50, cursor: FromQuery[str | None] = None) -> UserPage:
        return await users.page(cursor, limit)

    @post(
        "/",
        operation_id="adminCreateUser",
        responses=ADMIN_BODY_ERRORS,
        summary="Create a user (password policy applies; only roles within your powers)",
    )
    async def create_user(request: Request[Any, Any, Any], data: Annotated[UserCreate, Body()]) -> User:
        return await users.create(data, actors.of(request))

    @get("/{user_id:uuid}", operation_id="adminGetUser", responses=ADMIN_ERRORS, summary="Get a user")
    async def get_user(user_id: FromPath[UUID]) -> User:
        return await users.get(user_id)

    @patch(
        "/{user_id:uuid}",
        operation_id="adminUpdateUser",
        responses=ADMIN_BODY_ERRORS,
        summary="Change email, status or roles",
    )
    async def update_user(
        request: Request[Any, Any, Any], user_id: FromPath[UUID], data: Annotated[UserUpdate, Body()]
    ) -> User:
        return await users.update(user_id, data, actors.of(request))

    return [list_users, create_user, get_user, update_user]


def _account_states(users: UserService, actors: RequestActors) -> list[HTTPRouteHandler]:
    @post(
        "/{user_id:uuid}/disable",
        operation_id="adminDisableUser",
        responses=ADMIN_ERRORS,
        summary="Disable; ends every session",
    )
    async def disable_user(request: Request[Any, Any, Any], user_id: FromPath[UUID]) -> User:
        return await users.update(user_id, UserUpdate(status="disabled"), actors.of(request))

    @post(
        "/{user_id:uuid}/enable",
        operation_id="adminEnableUser",
        responses=ADMIN_ERRORS,
        summary="Enable a disabled user",
    )
    async def enable_user(request: Request[Any, Any, Any], user_id: FromPath[UUID]) -> User:
        return await users.update(user_id, UserUpdate(status="active"), actors.of(request))

    @delete(
        "/{user_id:uuid}",
        operation_id="adminDeleteUser",
        responses=ADMIN_ERRORS,
        summary="Delete a user and their sessions",
    )
    async def delete_user(request: Request[Any, Any, Any], user_id: FromPath[UUID]) -> None:
        await users.delete(user_id, actors.of(request))

    @post(
        "/{user_id:uuid}/password",
        operation_id="adminResetPassword",
        responses=ADMIN_BODY_ERRORS,
        summary="Set a new password; ends every session (only an account within your powers)",
        status_code=204,
    )
    async def reset_password(
        request: Request[Any, Any, Any], user_id: FromPath[UUID], data: Annotated[PasswordReset, Body()]
    ) -> None:
        await users.reset_password(user_id, data.password, actors.of(request))

    return [disable_user, enable_user, delete_user, reset_password]


def _role_assignments(roles: RoleService, actors: RequestActors) -> list[HTTPRouteHandler]:
    @put(
        "/{user_id:uuid}/roles/{role:str}",
        operation_id="adminAssignRole",
        responses=ADMIN_ERRORS,
        summary="Assign a role (only one whose scopes you hold)",
        status_code=204,
    )
    async def assign_role(
        request: Request[Any, Any, Any], user_id: FromPath[UUID], role: FromPath[str]
    ) -> None:
        await roles.assign(user_id, role, actors.of(request))

    @delete(
        "/{user_id:uuid}/roles/{role:str}",
        operation_id="adminUnassignRole",
        responses=ADMIN_ERRORS,
        summary="Remove a role",
    )
    async def unassign_role(
        request: Request[Any, Any, Any], user_id: FromPath[UUID], role: FromPath[str]
    ) -> None:
        await roles.unassign(user_id, role, actors.of(request))

    return [assign_role, unassign_role]
