"""``/api/1/admin/resource-servers``: register the APIs tokens are issued for (scope ``admin:resources``).

An identifier may be an absolute URI (``https://billing.example.com/``), so in a path it is one
URL-encoded segment. ASGI servers decode ``%2F`` before routing, which would split it, so the route
takes the rest of the path and the identifier is read from the raw (still encoded) path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote

from litestar import Request, Router, delete, get, patch, post
from litestar.params import Body, Parameter

from auth_service.actors import RequestActors
from auth_service.openapi_problems import ADMIN_BODY_ERRORS, ADMIN_ERRORS
from auth_service.resources.schemas import ResourceServer, ResourceServerCreate, ResourceServerUpdate
from auth_service.resources.service import ResourceServerService

__all__ = ["admin_resource_servers_router"]

PREFIX = "/resource-servers"
_ONE = "/{identifier:path}"
PathIdentifier = Annotated[
    Path,
    Parameter(
        description="The identifier, URL-encoded as one segment (`https%3A%2F%2Fbilling.example.com%2F`)"
    ),
]


def identifier_of(request: Request[Any, Any, Any]) -> str:
    """The identifier exactly as the client encoded it (``%2F`` included), or, without a raw path,
    what the router decoded."""
    raw: bytes | None = request.scope.get("raw_path")
    marker = f"{PREFIX}/".encode()
    if raw and marker in raw:
        return unquote(raw.partition(marker)[2].decode("latin-1"), errors="replace")
    return str(request.path_params.get("identifier", "")).lstrip("/")


def admin_resource_servers_router(servers: ResourceServerService, actors: RequestActors) -> Router:
    """Mounted under the admin router, which checks the scope."""

    @get(
        "/", operation_id="adminListResourceServers", responses=ADMIN_ERRORS, summary="List resource servers"
    )
    async def list_servers() -> list[ResourceServer]:
        return await servers.all()

    @post(
        "/",
        operation_id="adminCreateResourceServer",
        responses=ADMIN_BODY_ERRORS,
        summary="Register a resource server and the scopes it owns",
    )
    async def create_server(
        request: Request[Any, Any, Any], data: Annotated[ResourceServerCreate, Body()]
    ) -> ResourceServer:
        return await servers.create(data, actors.of(request))

    @get(_ONE, operation_id="adminGetResourceServer", responses=ADMIN_ERRORS, summary="Get a resource server")
    async def get_server(request: Request[Any, Any, Any], identifier: PathIdentifier) -> ResourceServer:
        return await servers.get(identifier_of(request))

    @patch(
        _ONE,
        operation_id="adminUpdateResourceServer",
        responses=ADMIN_BODY_ERRORS,
        summary="Rename, change the scopes (none still held may go) or the token lifetime",
    )
    async def update_server(
        request: Request[Any, Any, Any],
        identifier: PathIdentifier,
        data: Annotated[ResourceServerUpdate, Body()],
    ) -> ResourceServer:
        return await servers.update(identifier_of(request), data, actors.of(request))

    @delete(
        _ONE,
        operation_id="adminDeleteResourceServer",
        responses=ADMIN_ERRORS,
        summary="Delete a resource server whose scopes nobody holds",
    )
    async def delete_server(request: Request[Any, Any, Any], identifier: PathIdentifier) -> None:
        await servers.delete(identifier_of(request), actors.of(request))

    return Router(
        PREFIX,
        route_handlers=[list_servers, create_server, get_server, update_server, delete_server],
        tags=["Admin: resource servers"],
    )
