"""``/api/1/admin/clients``: OAuth client registration (RFC 7591 names), scope ``admin:clients``."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, delete, get, patch, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromPath, Parameter

from auth_service.actors import RequestActors
from auth_service.clients.schemas import Client, ClientCreate, ClientUpdate, ClientWithSecret
from auth_service.clients.service import ClientService
from auth_service.openapi_problems import ADMIN_BODY_ERRORS, ADMIN_ERRORS

__all__ = ["admin_clients_router"]


def admin_clients_router(clients: ClientService, actors: RequestActors) -> Router:
    """The client routes over ``clients``, to be mounted under the admin router (which checks scopes)."""
    return Router(
        "/clients", route_handlers=[*_reads(clients), *_writes(clients, actors)], tags=["Admin: clients"]
    )


def _reads(clients: ClientService) -> list[HTTPRouteHandler]:
    @get(
        "/",
        operation_id="adminListClients",
        responses=ADMIN_ERRORS,
        summary="List clients by client_id, a page at a time",
    )
    async def list_clients(
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        after: Annotated[str | None, Parameter(description="Last client_id of the previous page")] = None,
    ) -> list[Client]:
        return await clients.page(after, limit)

    @get(
        "/{client_id:str}",
        operation_id="adminGetClient",
        responses=ADMIN_ERRORS,
        summary="Get a client (never its secret)",
    )
    async def get_client(client_id: FromPath[str]) -> Client:
        return await clients.get(client_id)

    return [list_clients, get_client]


def _writes(clients: ClientService, actors: RequestActors) -> list[HTTPRouteHandler]:
    @post(
        "/",
        operation_id="adminCreateClient",
        responses=ADMIN_BODY_ERRORS,
        summary="Register a client; the secret is shown only here",
    )
    async def create_client(
        request: Request[Any, Any, Any], data: Annotated[ClientCreate, Body()]
    ) -> ClientWithSecret:
        return await clients.create(data, actors.of(request))

    @patch(
        "/{client_id:str}",
        operation_id="adminUpdateClient",
        responses=ADMIN_BODY_ERRORS,
        summary="Change what the body names: name, grants, scope, auth method, resources",
    )
    async def update_client(
        request: Request[Any, Any, Any], client_id: FromPath[str], data: Annotated[ClientUpdate, Body()]
    ) -> Client:
        return await clients.update(client_id, data, actors.of(request))

    @post(
        "/{client_id:str}/secret",
        operation_id="adminRotateClientSecret",
        responses=ADMIN_ERRORS,
        summary="Issue a new secret",
    )
    async def rotate_secret(request: Request[Any, Any, Any], client_id: FromPath[str]) -> ClientWithSecret:
        return await clients.rotate_secret(client_id, actors.of(request))

    @delete(
        "/{client_id:str}",
        operation_id="adminDeleteClient",
        responses=ADMIN_ERRORS,
        summary="Delete a client and its sessions",
    )
    async def delete_client(request: Request[Any, Any, Any], client_id: FromPath[str]) -> None:
        await clients.delete(client_id, actors.of(request))

    return [create_client, update_client, rotate_secret, delete_client]
