"""``/api/1/admin/roles``: role CRUD (scope ``admin:roles``); assignment lives under users."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, delete, get, patch, post
from litestar.params import Body, FromPath

from auth_service.actors import RequestActors
from auth_service.openapi_problems import ADMIN_BODY_ERRORS, ADMIN_ERRORS
from auth_service.roles.schemas import Role, RoleCreate, RoleUpdate
from auth_service.roles.service import RoleService

__all__ = ["admin_roles_router"]


def admin_roles_router(roles: RoleService, actors: RequestActors) -> Router:
    """The role routes over ``roles``, to be mounted under the admin router (which checks scopes)."""

    @get("/", operation_id="adminListRoles", responses=ADMIN_ERRORS, summary="List roles")
    async def list_roles() -> list[Role]:
        return await roles.all()

    @post(
        "/",
        operation_id="adminCreateRole",
        responses=ADMIN_BODY_ERRORS,
        summary="Create a role (only scopes you hold)",
    )
    async def create_role(request: Request[Any, Any, Any], data: Annotated[RoleCreate, Body()]) -> Role:
        return await roles.create(data, actors.of(request))

    @get("/{name:str}", operation_id="adminGetRole", responses=ADMIN_ERRORS, summary="Get a role")
    async def get_role(name: FromPath[str]) -> Role:
        return await roles.get(name)

    @patch(
        "/{name:str}",
        operation_id="adminUpdateRole",
        responses=ADMIN_BODY_ERRORS,
        summary="Rename a role or change its scopes",
    )
    async def update_role(
        request: Request[Any, Any, Any], name: FromPath[str], data: Annotated[RoleUpdate, Body()]
    ) -> Role:
        return await roles.update(name, data, actors.of(request))

    @delete(
        "/{name:str}",
        operation_id="adminDeleteRole",
        responses=ADMIN_ERRORS,
        summary="Delete a role nobody holds",
    )
    async def delete_role(request: Request[Any, Any, Any], name: FromPath[str]) -> None:
        await roles.delete(name, actors.of(request))

    return Router(
        "/roles",
        route_handlers=[list_roles, create_role, get_role, update_role, delete_role],
        tags=["Admin: roles"],
    )
