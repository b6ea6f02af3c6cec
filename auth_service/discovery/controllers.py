"""Public, cacheable documents: discovery metadata and the JWKS; and ``/userinfo`` (bearer).

The JWKS answer is the keyring's pre-encoded body with ``Cache-Control: public, max-age`` and an
``ETag``; a matching ``If-None-Match`` gets ``304`` with no body.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from auth_service.discovery.documents import CachedDocument
from auth_service.openapi_problems import BEARER_ERRORS
from auth_service.users.service import UserService
from shared.auth.litestar import current_claims
from shared.http.problems import ProblemError

__all__ = ["discovery_handlers", "userinfo"]


class Jwks(msgspec.Struct):
    keys: list[dict[str, Any]]


class UserInfo(msgspec.Struct):
    sub: str
    client_id: str
    scope: str
    scopes: list[str]
    roles: list[str]
    email: str | None = None


def _cached(request: Request[Any, Any, Any], document: CachedDocument, max_age: int) -> Response[bytes]:
    headers = {"Cache-Control": f"public, max-age={max_age}", "ETag": document.etag}
    if_none_match = request.headers.get("if-none-match", "")
    if document.etag in {tag.strip() for tag in if_none_match.split(",")} or if_none_match.strip() == "*":
        return Response(content=b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(content=document.body, media_type="application/json", headers=headers)


_METADATA_DOC = {200: ResponseSpec(dict[str, Any], description="Authorization server metadata")}


@get(
    "/.well-known/oauth-authorization-server",
    operation_id="authorizationServerMetadata",
    summary="Authorization server metadata (RFC 8414)",
    tags=["Discovery"],
    responses=_METADATA_DOC,
)
async def oauth_metadata(request: Request[Any, Any, State], state: State) -> Response[bytes]:
    return _cached(request, state.metadata.document(), state.settings.jwks_max_age)


@get(
    "/.well-known/openid-configuration",
    operation_id="openidConfiguration",
    summary="OpenID Connect discovery (same metadata)",
    tags=["Discovery"],
    responses=_METADATA_DOC,
)
async def openid_configuration(request: Request[Any, Any, State], state: State) -> Response[bytes]:
    return _cached(request, state.metadata.document(), state.settings.jwks_max_age)


@get(
    "/.well-known/jwks.json",
    operation_id="jwks",
    summary="The public signing keys (RFC 7517)",
    tags=["Discovery"],
    responses={200: ResponseSpec(Jwks, description="JWK set")},
)
async def jwks(request: Request[Any, Any, State], state: State) -> Response[bytes]:
    document = state.signing_keys.keyring.jwks
    return _cached(
        request, CachedDocument(body=document.body, etag=document.etag), state.settings.jwks_max_age
    )


@get(
    "/userinfo",
    operation_id="userinfo",
    responses=BEARER_ERRORS,
    summary="Who the bearer token speaks for: sub, email, roles, scopes",
    tags=["Users"],
    security=[{"bearer": []}],
)
async def userinfo(request: Request[Any, Any, State], state: State) -> UserInfo:
    claims = current_claims(request)
    scopes = sorted(claims.scopes)
    if claims.sub == claims.client_id:
        return UserInfo(
            sub=claims.sub, client_id=claims.client_id, scope=claims.scope, scopes=scopes, roles=[]
        )
    users: UserService = state.user_service
    try:
        user = await users.get(UUID(claims.sub))
    except (ValueError, ProblemError):
        user = None
    if user is None or user.status != "active":
        raise ProblemError(
            401,
            "invalid-token",
            "The token's user no longer exists or is disabled.",
            headers={"WWW-Authenticate": 'Bearer realm="auth", error="invalid_token"'},
        )
    return UserInfo(
        sub=claims.sub,
        client_id=claims.client_id,
        scope=claims.scope,
        scopes=scopes,
        roles=user.roles,
        email=user.email,
    )


def discovery_handlers() -> list[Any]:
    return [oauth_metadata, openid_configuration, jwks]
