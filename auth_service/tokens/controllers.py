"""HTTP for ``/oauth/token``, ``/oauth/revoke`` and ``/oauth/introspect``: RFC 6749 JSON, never problem+json.

Every answer carries ``Cache-Control: no-store`` and ``Pragma: no-cache`` (RFC 6749 section 5.1);
``invalid_client`` is a 401 with a ``WWW-Authenticate: Basic`` challenge (section 5.2).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from redis.exceptions import RedisError

from auth_service.actors import client_ip
from auth_service.keys.keyring import NoSigningKey
from auth_service.openapi_forms import form_operation
from auth_service.settings import AuthSettings
from auth_service.throttling.answers import oauth_refusal
from auth_service.throttling.errors import ThrottleRefusal
from auth_service.tokens.errors import OAuthError
from auth_service.tokens.form import parse_form
from auth_service.tokens.grants import TokenResponse, TokenService
from auth_service.tokens.inspection import TokenInspection
from shared.metrics import ServiceMetrics
from shared.metrics.service import GRANT_TYPES

__all__ = ["oauth_handlers"]

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
CHALLENGE = 'Basic realm="oauth", charset="UTF-8"'
_encode = msgspec.json.Encoder().encode


class OAuthErrorBody(msgspec.Struct):
    error: str
    error_description: str


class IntrospectionBody(msgspec.Struct):
    active: bool


_ERRORS = {
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
_CLIENT_FIELDS = {
    "client_id": "The client (required for public clients; confidential ones may use Basic instead)",
    "client_secret": "client_secret_post authentication (or use HTTP Basic)",
}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(
        content=_encode(body),
        status_code=status,
        media_type="application/json",
        headers={**NO_STORE, **(headers or {})},
    )


def _error(exc: OAuthError) -> Response[bytes]:
    headers = {"WWW-Authenticate": CHALLENGE} if exc.status == 401 else None
    return _json({"error": exc.error, "error_description": exc.description}, exc.status, headers)


def _refused(refusal: ThrottleRefusal) -> Response[bytes]:
    status, body, headers = oauth_refusal(refusal)
    return _json(body, status, headers)


def _unavailable(description: str) -> Response[bytes]:
    return _json(
        {"error": "temporarily_unavailable", "error_description": description}, 503, {"Retry-After": "2"}
    )


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    settings: AuthSettings = request.app.state.settings
    return parse_form(
        request.headers.get("content-type", ""),
        await request.body(),
        max_params=settings.oauth_max_params,
        max_chars=settings.oauth_max_param_chars,
    )


@post(
    "/oauth/token",
    operation_id="token",
    summary="Issue tokens (RFC 6749): password, refresh_token, client_credentials",
    tags=["OAuth 2.0"],
    status_code=200,
    responses={**_ERRORS, **_THROTTLED},
    operation_class=form_operation(
        {
            "grant_type": "password | refresh_token | client_credentials",
            "username": "password grant: the email",
            "password": "password grant",
            "refresh_token": "refresh_token grant",
            "scope": "Space-separated scopes, at most those allowed",
            **_CLIENT_FIELDS,
        },
        ["grant_type"],
    ),
)
async def token(request: Request[Any, Any, State]) -> Response[TokenResponse]:
    # The app state from the request, not as a parameter: one injected value less per token request.
    state = request.app.state
    service: TokenService = state.token_service
    metrics: ServiceMetrics = state.metrics
    grant = "other"
    try:
        form = await _form(request)
        grant = form.get("grant_type", "") if form.get("grant_type") in GRANT_TYPES else "other"
        issued = await service.token(form, request.headers.get("authorization"), client_ip(request))
    except OAuthError as exc:
        metrics.token_request(grant, exc.error)
        return _error(exc)  # type: ignore[return-value]
    except ThrottleRefusal as refusal:
        response = _refused(refusal)
        metrics.token_request(
            grant, "slow_down" if response.status_code == 429 else "temporarily_unavailable"
        )
        return response  # type: ignore[return-value]
    except NoSigningKey:
        metrics.token_request(grant, "temporarily_unavailable")
        return _unavailable("No signing key is loaded yet; retry shortly.")  # type: ignore[return-value]
    metrics.token_request(grant, "issued")
    return _json(issued)  # type: ignore[return-value]


@post(
    "/oauth/revoke",
    operation_id="revoke",
    summary="Revoke an access or refresh token (RFC 7009)",
    tags=["OAuth 2.0"],
    status_code=200,
    responses=_ERRORS,
    operation_class=form_operation(
        {"token": "The token to revoke", "token_type_hint": "access_token | refresh_token", **_CLIENT_FIELDS},
        ["token"],
    ),
)
async def revoke(request: Request[Any, Any, State], state: State) -> Response[None]:
    service: TokenInspection = state.token_inspection
    try:
        form = await _form(request)
        await service.revoke(form, request.headers.get("authorization"), client_ip(request))
    except OAuthError as exc:
        return _error(exc)  # type: ignore[return-value]
    except RedisError:
        return _unavailable("The revocation list cannot be written right now; retry shortly.")  # type: ignore[return-value]
    return Response(content=None, status_code=200, headers=NO_STORE)


@post(
    "/oauth/introspect",
    operation_id="introspect",
    summary="Introspect a token (RFC 7662); confidential clients only",
    tags=["OAuth 2.0"],
    status_code=200,
    responses={**_ERRORS, **_THROTTLED},
    operation_class=form_operation(
        {
            "token": "The token to introspect",
            "token_type_hint": "access_token | refresh_token",
            **_CLIENT_FIELDS,
        },
        ["token"],
    ),
)
async def introspect(request: Request[Any, Any, State], state: State) -> Response[IntrospectionBody]:
    service: TokenInspection = state.token_inspection
    try:
        form = await _form(request)
        answer = await service.introspect(form, request.headers.get("authorization"))
    except OAuthError as exc:
        return _error(exc)  # type: ignore[return-value]
    except ThrottleRefusal as refusal:
        return _refused(refusal)  # type: ignore[return-value]
    except RedisError:
        return _unavailable("The revocation list cannot be read right now; retry shortly.")  # type: ignore[return-value]
    return _json(answer)  # type: ignore[return-value]


def oauth_handlers() -> list[Any]:
    return [token, revoke, introspect]
