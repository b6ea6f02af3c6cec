"""``/api/1/admin/clients``: OAuth client registration (RFC 7591 names), scope ``users:manage``."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.datastructures import State
from litestar.params import Body, FromPath, Parameter

from auth_service.actors import request_actor
from auth_service.clients.schemas import Client, ClientCreate, ClientUpdate, ClientWithSecret
from auth_service.clients.service import ClientService
from auth_service.openapi_problems import ADMIN_BODY_ERRORS, ADMIN_ERRORS

__all__ = ["AdminClientsController"]


class AdminClientsController(Controller):
    path = "/clients"
    tags = ["Admin: clients"]

    @get(
        "/",
        operation_id="adminListClients",
        responses=ADMIN_ERRORS,
        summary="List clients by client_id, a page at a time",
    )
    async def list_clients(
        self,
        state: State,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        after: Annotated[str | None, Parameter(description="Last client_id of the previous page")] = None,
    ) -> list[Client]:
        clients: ClientService = state.client_service
        return await clients.page(after, limit)

    @post(
        "/",
        operation_id="adminCreateClient",
        responses=ADMIN_BODY_ERRORS,
        summary="Register a client; the secret is shown only here",
    )
    async def create_client(
        self, request: Request[Any, Any, State], state: State, data: Annotated[ClientCreate, Body()]
    ) -> ClientWithSecret:
        clients: ClientService = state.client_service
        return await clients.create(data, request_actor(request))

    @get(
        "/{client_id:str}",
        operation_id="adminGetClient",
        responses=ADMIN_ERRORS,
        summary="Get a client (never its secret)",
    )
    async def get_client(self, state: State, client_id: FromPath[str]) -> Client:
        clients: ClientService = state.client_service
        return await clients.get(client_id)

    @patch(
        "/{client_id:str}",
        operation_id="adminUpdateClient",
        responses=ADMIN_BODY_ERRORS,
        summary="Change name, grant types or scope",
    )
    async def update_client(
        self,
        request: Request[Any, Any, State],
        state: State,
        client_id: FromPath[str],
        data: Annotated[ClientUpdate, Body()],
    ) -> Client:
        clients: ClientService = state.client_service
        return await clients.update(client_id, data, request_actor(request))

    @post(
        "/{client_id:str}/secret",
        operation_id="adminRotateClientSecret",
        responses=ADMIN_ERRORS,
        summary="Issue a new secret",
    )
    async def rotate_secret(
        self, request: Request[Any, Any, State], state: State, client_id: FromPath[str]
    ) -> ClientWithSecret:
        clients: ClientService = state.client_service
        return await clients.rotate_secret(client_id, request_actor(request))

    @delete(
        "/{client_id:str}",
        operation_id="adminDeleteClient",
        responses=ADMIN_ERRORS,
        summary="Delete a client and its sessions",
    )
    async def delete_client(
        self, request: Request[Any, Any, State], state: State, client_id: FromPath[str]
    ) -> None:
        clients: ClientService = state.client_service
        await clients.delete(client_id, request_actor(request))
