"""HTTP for ``/oauth/token``, ``/oauth/revoke`` and ``/oauth/introspect``: RFC 6749 JSON, never problem+json.

Handlers are closures over the services they call (nothing resolved per request: the token
endpoint is the issuer's hot path). Errors are ``OAuthError``s the app renders in one place
(``error_answers.py``): ``Cache-Control: no-store``, ``Pragma: no-cache`` and, for
``invalid_client``, a 401 with a ``WWW-Authenticate: Basic`` challenge (RFC 6749 section 5.2).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec

from auth_service.actors import RequestActors
from auth_service.metrics import GRANT_TYPES, AuthMetrics
from auth_service.openapi_forms import form_operation
from auth_service.settings import OAuthSettings
from auth_service.tokens.error_answers import NO_STORE, json_answer
from auth_service.tokens.errors import OAuthError
from auth_service.tokens.form import parse_form
from auth_service.tokens.grants import TokenResponse, TokenService
from auth_service.tokens.introspection import TokenIntrospection
from auth_service.tokens.revocation import TokenRevocation

__all__ = ["CLIENT_FIELDS", "OAUTH_ERRORS", "OAuthErrorBody", "form_reader", "oauth_handlers"]

FormReader = Callable[[Request[Any, Any, Any]], Awaitable[dict[str, str]]]


class OAuthErrorBody(msgspec.Struct):
    error: str
    error_description: str


class IntrospectionBody(msgspec.Struct):
    active: bool


OAUTH_ERRORS = {
    400: ResponseSpec(OAuthErrorBody, description="RFC 6749 error (invalid_request, invalid_grant, ...)"),
    401: ResponseSpec(OAuthErrorBody, description="invalid_client, with a Basic challenge"),
}
_THROTTLED = {
    429: ResponseSpec(
        OAuthErrorBody,
        description="slow_down, with Retry-After (the body also carries RFC 9457 problem members)",
    ),
    503: ResponseSpec(OAuthErrorBody, description="temporarily_unavailable, with Retry-After"),
}
CLIENT_FIELDS = {
    "client_id": "The client (required for public clients; confidential ones may use Basic instead)",
    "client_secret": "client_secret_post authentication (or use HTTP Basic)",
}
_TOKEN_ROUTE: dict[str, Any] = {
    "operation_id": "token",
    "summary": "Issue tokens (RFC 6749): authorization_code, refresh_token, client_credentials, device_code",
    "description": "The password grant is legacy (RFC 9700 section 2.4): refused unless enabled and "
    "registered on the client.",
    "responses": {**OAUTH_ERRORS, **_THROTTLED},
    "operation_class": form_operation(
        {
            "grant_type": "authorization_code | refresh_token | client_credentials | "
            "urn:ietf:params:oauth:grant-type:device_code | password (legacy)",
            "code": "authorization_code grant: the code from the redirect",
            "redirect_uri": "authorization_code grant: exactly the one of the authorization request",
            "code_verifier": "authorization_code grant: the PKCE verifier (RFC 7636, S256)",
            "device_code": "device_code grant (RFC 8628)",
            "username": "password grant (legacy): the email",
            "password": "password grant (legacy)",
            "refresh_token": "refresh_token grant",
            "scope": "Space-separated scopes, at most those allowed",
            "resource": "RFC 8707: a resource server's identifier the token is for (may repeat)",
            **CLIENT_FIELDS,
        },
        ["grant_type"],
    ),
}
_REVOKE_ROUTE: dict[str, Any] = {
    "operation_id": "revoke",
    "summary": "Revoke an access or refresh token (RFC 7009)",
    "responses": OAUTH_ERRORS,
    "operation_class": form_operation(
        {"token": "The token to revoke", "token_type_hint": "access_token | refresh_token", **CLIENT_FIELDS},
        ["token"],
    ),
}
_INTROSPECT_ROUTE: dict[str, Any] = {
    "operation_id": "introspect",
    "summary": "Introspect a token (RFC 7662); confidential clients only",
    "responses": {**OAUTH_ERRORS, **_THROTTLED},
    "operation_class": form_operation(
        {
            "token": "The token to introspect",
            "token_type_hint": "access_token | refresh_token",
            **CLIENT_FIELDS,
        },
        ["token"],
    ),
}
_OAUTH: dict[str, Any] = {"tags": ["OAuth 2.0"], "status_code": 200}


def form_reader(limits: OAuthSettings) -> FormReader:
    """Reads the body as an OAuth form within ``AUTH_OAUTH_MAX_PARAMS`` / ``_MAX_PARAM_CHARS``."""
    max_params, max_chars = limits.oauth_max_params, limits.oauth_max_param_chars

    async def read(request: Request[Any, Any, Any]) -> dict[str, str]:
        content_type = request.headers.get("content-type", "")
        return parse_form(content_type, await request.body(), max_params=max_params, max_chars=max_chars)

    return read


def token_handler(
    service: TokenService, read_form: FormReader, actors: RequestActors, metrics: AuthMetrics
) -> HTTPRouteHandler:
    @post("/oauth/token", **_TOKEN_ROUTE, **_OAUTH)
    async def token(request: Request[Any, Any, Any]) -> Response[TokenResponse]:
        grant = "other"
        try:
            form = await read_form(request)
            grant = form.get("grant_type", "") if form.get("grant_type") in GRANT_TYPES else "other"
            issued = await service.token(
                form, request.headers.get("authorization"), actors.client_ip(request)
            )
        except OAuthError as exc:
            metrics.token_request(grant, exc.error)
            raise
        metrics.token_request(grant, "issued")
        return json_answer(issued)

    return token


def revoke_handler(
    service: TokenRevocation, read_form: FormReader, actors: RequestActors
) -> HTTPRouteHandler:
    @post("/oauth/revoke", **_REVOKE_ROUTE, **_OAUTH)
    async def revoke(request: Request[Any, Any, Any]) -> Response[None]:
        form = await read_form(request)
        await service.revoke(form, request.headers.get("authorization"), actors.client_ip(request))
        return Response(content=None, status_code=200, headers=NO_STORE)

    return revoke


def introspect_handler(service: TokenIntrospection, read_form: FormReader) -> HTTPRouteHandler:
    @post("/oauth/introspect", **_INTROSPECT_ROUTE, **_OAUTH)
    async def introspect(request: Request[Any, Any, Any]) -> Response[IntrospectionBody]:
        form = await read_form(request)
        return json_answer(await service.introspect(form, request.headers.get("authorization")))

    return introspect


def oauth_handlers(
    tokens: TokenService,
    revocation: TokenRevocation,
    introspection: TokenIntrospection,
    *,
    limits: OAuthSettings,
    actors: RequestActors,
    metrics: AuthMetrics,
) -> list[HTTPRouteHandler]:
    read_form = form_reader(limits)
    return [
        token_handler(tokens, read_form, actors, metrics),
        revoke_handler(revocation, read_form, actors),
        introspect_handler(introspection, read_form),
    ]
