"""``/api/1/admin/roles``: role CRUD (scope ``users:manage``); assignment lives under users."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.datastructures import State
from litestar.params import Body, FromPath

from auth_service.actors import request_actor
from auth_service.openapi_problems import ADMIN_BODY_ERRORS, ADMIN_ERRORS
from auth_service.roles.schemas import Role, RoleCreate, RoleUpdate
from auth_service.roles.service import RoleService

__all__ = ["AdminRolesController"]


class AdminRolesController(Controller):
    path = "/roles"
    tags = ["Admin: roles"]

    @get("/", operation_id="adminListRoles", responses=ADMIN_ERRORS, summary="List roles")
    async def list_roles(self, state: State) -> list[Role]:
        roles: RoleService = state.role_service
        return await roles.all()

    @post("/", operation_id="adminCreateRole", responses=ADMIN_BODY_ERRORS, summary="Create a role")
    async def create_role(
        self, request: Request[Any, Any, State], state: State, data: Annotated[RoleCreate, Body()]
    ) -> Role:
        roles: RoleService = state.role_service
        return await roles.create(data, request_actor(request))

    @get("/{name:str}", operation_id="adminGetRole", responses=ADMIN_ERRORS, summary="Get a role")
    async def get_role(self, state: State, name: FromPath[str]) -> Role:
        roles: RoleService = state.role_service
        return await roles.get(name)

    @patch(
        "/{name:str}",
        operation_id="adminUpdateRole",
        responses=ADMIN_BODY_ERRORS,
        summary="Rename a role or change its scopes",
    )
    async def update_role(
        self,
        request: Request[Any, Any, State],
        state: State,
        name: FromPath[str],
        data: Annotated[RoleUpdate, Body()],
    ) -> Role:
        roles: RoleService = state.role_service
        return await roles.update(name, data, request_actor(request))

    @delete(
        "/{name:str}",
        operation_id="adminDeleteRole",
        responses=ADMIN_ERRORS,
        summary="Delete a role nobody holds",
    )
    async def delete_role(self, request: Request[Any, Any, State], state: State, name: FromPath[str]) -> None:
        roles: RoleService = state.role_service
        await roles.delete(name, request_actor(request))
