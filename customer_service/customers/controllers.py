"""HTTP for ``/api/1/customers``: parse, call the service, shape the answer. No rules here.

Handlers are closures over the service (no per-request dependency resolution) and answer
pre-encoded JSON, so ``GET /{cpf}`` costs one prepared query, one Struct and one encode. Each
route names its scope once (``scoped_route``): the bearer middleware enforces it and the OpenAPI
``security`` entry documents it. ``DELETE`` may also require how the person logged in (a second
factor, a recent login: RFC 9470 step-up), as ``CUSTOMER_DELETE_REQUIRES_MFA`` and
``CUSTOMER_DELETE_MAX_AGE`` say; the middleware enforces that too.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, Router, delete, get, patch, post, put
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromPath, HeaderParameter

from customer_service.customers.errors import InvalidRequest
from customer_service.customers.etags import Preconditions, etag_of, not_modified
from customer_service.customers.openapi import (
    BEARER,
    ETAG,
    LINK,
    LOCATION,
    NOT_MODIFIED,
    problems,
    query_operation,
)
from customer_service.customers.pagination import encode_cursor
from customer_service.customers.query_params import ListQuery, SearchQuery
from customer_service.customers.query_values import parse_cpf_param
from customer_service.customers.schemas import Actor, Customer, CustomerPage, FieldError, StoredCustomer
from customer_service.customers.search import CustomerSearch
from customer_service.customers.service import CustomerService, Page
from shared.auth.litestar import current_claims, requires_authentication, requires_mfa, scoped_route
from shared.logs import request_id_var

__all__ = ["BASE_PATH", "customer_router"]

BASE_PATH = "/api/1/customers"
READ, WRITE, DELETE = "customers:read", "customers:write", "customers:delete"
JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"

_encode = msgspec.json.Encoder().encode

IfMatch = Annotated[
    str | None,
    HeaderParameter(name="If-Match", description="ETag from GET; a stale one answers 412.", required=False),
]
Document = Annotated[dict[str, Any], Body(media_type=JSON, description="A customer (camelCase attributes).")]
MergePatch = Annotated[dict[str, Any], Body(media_type=MERGE_PATCH, description="RFC 7396 merge patch.")]

_CUSTOMER = "The customer; its ETag is its version."
_PAGE = 'A page of customers; Link rel="next" (and nextCursor) when there is more.'
_UPDATE_RESPONSES = problems(400, 404, 409, 412, 413, 415, 422, 428)
_LIST_OPERATION = query_operation(ListQuery)
_SEARCH_OPERATION = query_operation(SearchQuery)


def _cpf(raw: str) -> str:
    try:
        return parse_cpf_param(raw)
    except ValueError as exc:
        raise InvalidRequest([FieldError("cpf", str(exc), "path")]) from None


def _query(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    """Every value of each query parameter, names in the order they first appear (so the 400's
    ``errors`` list them in a stable order; ``MultiDict.dict()`` goes through a set)."""
    grouped: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        grouped.setdefault(name, []).append(value)
    return grouped


def _actor(request: Request[Any, Any, Any]) -> Actor:
    return Actor(current_claims(request).sub, request_id_var.get())


def _customer_response(stored: StoredCustomer, status: int = 200, **headers: str) -> Response[Any]:
    """Pre-encoded (the handlers' ``Response[Customer]`` annotation documents what the bytes are)."""
    return Response(
        _encode(stored.customer),
        status_code=status,
        media_type=JSON,
        headers={"ETag": etag_of(stored.version), **headers},
    )


def _not_modified(version: int) -> Response[Any]:
    return Response(b"", status_code=304, headers={"ETag": etag_of(version)})


def _page_response(request: Request[Any, Any, Any], page: Page) -> Response[Any]:
    cursor = encode_cursor(page.next) if page.next is not None else None
    body = CustomerPage([stored.customer for stored in page.items], cursor)
    headers: dict[str, str] = {}
    if cursor is not None:
        query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("cursor", "lastCpf")]
        link = f"{request.url.path}?{urlencode([*query, ('cursor', cursor)])}"
        headers["Link"] = f'<{link}>; rel="next"'
    return Response(_encode(body), media_type=JSON, headers=headers)


def delete_step_up(requires_mfa_login: bool, max_age: int) -> dict[str, Any]:
    """The ``DELETE`` route's login requirement (``max_age`` 0: none): MFA by default, since
    erasing a customer cannot be undone; a client's token for itself (client credentials) is
    refused whenever there is one, as no person stepped up for it."""
    age = max_age or None
    if requires_mfa_login:
        return requires_mfa(max_age=age)
    return requires_authentication(max_age=age) if age is not None else {}


def customer_router(
    service: CustomerService,
    search: CustomerSearch,
    base_path: str = BASE_PATH,
    delete_requirement: dict[str, Any] | None = None,
) -> Router:
    """``delete_requirement``: route options of ``DELETE`` beyond its scope (``delete_step_up``;
    ``None``: MFA, the default)."""
    step_up = delete_step_up(True, 0) if delete_requirement is None else delete_requirement
    return Router(
        path=base_path,
        route_handlers=[
            *_read_handlers(service, search),
            *_write_handlers(service, base_path),
            _delete_handler(service, step_up),
        ],
        tags=["customers"],
    )


def _read_handlers(service: CustomerService, search: CustomerSearch) -> list[HTTPRouteHandler]:
    @get(
        "/",
        **scoped_route(BEARER, READ),
        responses=problems(400),
        response_description=_PAGE,
        response_headers=[LINK],
        operation_id="listCustomers",
        operation_class=_LIST_OPERATION,
    )
    async def list_customers(request: Request[Any, Any, Any]) -> Response[CustomerPage]:
        """Customers in CPF order, ``limit`` (1..100, default 20) at a time; continue with ``cursor``."""
        query = ListQuery.read(_query(request))
        after = query.after.cpf if query.after is not None else ""
        return _page_response(request, await service.page(after, query.limit))

    @get(
        "/search",
        **scoped_route(BEARER, READ),
        responses=problems(400, 422),
        response_description=_PAGE,
        response_headers=[LINK],
        operation_id="searchCustomers",
        operation_class=_SEARCH_OPERATION,
    )
    async def search_customers(request: Request[Any, Any, Any]) -> Response[CustomerPage]:
        """Full-text search over every attribute (``q``), ranked, combinable with exact filters."""
        return _page_response(request, await search.search(SearchQuery.read(_query(request))))

    @get(
        "/{cpf:str}",
        **scoped_route(BEARER, READ),
        responses={304: NOT_MODIFIED, **problems(400, 404)},
        response_description=_CUSTOMER,
        response_headers=[ETAG],
        operation_id="getCustomer",
    )
    async def get_customer(cpf: FromPath[str], request: Request[Any, Any, Any]) -> Response[Customer]:
        """One customer; ``If-None-Match`` with its current ETag answers 304."""
        stored = await service.get(_cpf(cpf))
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None and not_modified(if_none_match, stored.version):
            return _not_modified(stored.version)
        return _customer_response(stored)

    return [list_customers, search_customers, get_customer]


def _write_handlers(service: CustomerService, base_path: str) -> list[HTTPRouteHandler]:
    @post(
        "/",
        **scoped_route(BEARER, WRITE),
        responses=problems(400, 409, 413, 415, 422),
        response_description=_CUSTOMER,
        response_headers=[ETAG, LOCATION],
        operation_id="createCustomer",
    )
    async def create_customer(request: Request[Any, Any, Any], data: Document) -> Response[Customer]:
        """Register a customer: 201 with Location and ETag; 409 names the CPF, e-mail or phone taken."""
        stored = await service.create(data, _actor(request))
        location = f"{base_path}/{stored.customer.cpf}"
        return _customer_response(stored, 201, Location=location)

    @put(
        "/{cpf:str}",
        **scoped_route(BEARER, WRITE),
        responses=_UPDATE_RESPONSES,
        response_description=_CUSTOMER,
        response_headers=[ETAG],
        operation_id="replaceCustomer",
    )
    async def replace_customer(
        cpf: FromPath[str], request: Request[Any, Any, Any], data: Document, if_match: IfMatch = None
    ) -> Response[Customer]:
        """Replace every attribute (absent optional ones become null); needs If-Match."""
        preconditions = Preconditions.from_headers(if_match, request.headers.get("if-none-match"))
        return _customer_response(await service.replace(_cpf(cpf), data, preconditions, _actor(request)))

    @patch(
        "/{cpf:str}",
        **scoped_route(BEARER, WRITE),
        responses=_UPDATE_RESPONSES,
        response_description=_CUSTOMER,
        response_headers=[ETAG],
        operation_id="patchCustomer",
    )
    async def patch_customer(
        cpf: FromPath[str], request: Request[Any, Any, Any], data: MergePatch, if_match: IfMatch = None
    ) -> Response[Customer]:
        """Change some attributes (RFC 7396: ``null`` removes an optional one); needs If-Match."""
        preconditions = Preconditions.from_headers(if_match, request.headers.get("if-none-match"))
        return _customer_response(await service.patch(_cpf(cpf), data, preconditions, _actor(request)))

    return [create_customer, replace_customer, patch_customer]


def _delete_handler(service: CustomerService, step_up: dict[str, Any]) -> HTTPRouteHandler:
    @delete(
        "/{cpf:str}",
        **scoped_route(BEARER, DELETE, opt=step_up),
        status_code=204,
        responses=problems(400, 404, 409, 412, step_up=bool(step_up)),
        operation_id="deleteCustomer",
    )
    async def delete_customer(
        cpf: FromPath[str], request: Request[Any, Any, Any], if_match: IfMatch = None
    ) -> None:
        """Remove a customer (its event history stays); If-Match is honoured when sent. By default
        the token must come from a login with a second factor (see the 401)."""
        preconditions = Preconditions.from_headers(if_match, request.headers.get("if-none-match"))
        await service.delete(_cpf(cpf), preconditions, _actor(request))

    return delete_customer
