"""Public, cacheable documents: discovery metadata and the JWKS; and ``/userinfo`` (bearer).

The JWKS answer is the keyring's pre-encoded body with ``Cache-Control: public, max-age`` and an
``ETag``; a matching ``If-None-Match`` gets ``304`` with no body.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from auth_service.discovery.documents import CachedDocument, ServerMetadata
from auth_service.discovery.userinfo import UserInfo, UserInfoService
from auth_service.keys.keyring import Keyring
from auth_service.openapi_problems import BEARER_ERRORS
from shared.auth.litestar import current_claims

__all__ = ["discovery_handlers", "userinfo_handler"]


class Jwks(msgspec.Struct):
    keys: list[dict[str, Any]]


def _cached(request: Request[Any, Any, Any], document: CachedDocument, max_age: int) -> Response[bytes]:
    headers = {"Cache-Control": f"public, max-age={max_age}", "ETag": document.etag}
    if_none_match = request.headers.get("if-none-match", "")
    if document.etag in {tag.strip() for tag in if_none_match.split(",")} or if_none_match.strip() == "*":
        return Response(content=b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(content=document.body, media_type="application/json", headers=headers)


_METADATA_DOC = {200: ResponseSpec(dict[str, Any], description="Authorization server metadata")}


def discovery_handlers(metadata: ServerMetadata, keyring: Keyring, *, max_age: int) -> list[HTTPRouteHandler]:
    """``max_age``: ``AUTH_JWKS_MAX_AGE``, the ``Cache-Control`` of all three documents."""

    @get(
        "/.well-known/oauth-authorization-server",
        operation_id="authorizationServerMetadata",
        summary="Authorization server metadata (RFC 8414)",
        responses=_METADATA_DOC,
        tags=["Discovery"],
    )
    async def oauth_metadata(request: Request[Any, Any, Any]) -> Response[bytes]:
        return _cached(request, metadata.document(), max_age)

    @get(
        "/.well-known/openid-configuration",
        operation_id="openidConfiguration",
        summary="OpenID Connect discovery (same metadata)",
        responses=_METADATA_DOC,
        tags=["Discovery"],
    )
    async def openid_configuration(request: Request[Any, Any, Any]) -> Response[bytes]:
        return _cached(request, metadata.document(), max_age)

    @get(
        "/.well-known/jwks.json",
        operation_id="jwks",
        summary="The public signing keys (RFC 7517)",
        responses={200: ResponseSpec(Jwks, description="JWK set")},
        tags=["Discovery"],
    )
    async def jwks(request: Request[Any, Any, Any]) -> Response[bytes]:
        document = keyring.jwks
        return _cached(request, CachedDocument(body=document.body, etag=document.etag), max_age)

    return [oauth_metadata, openid_configuration, jwks]


def userinfo_handler(userinfo: UserInfoService) -> HTTPRouteHandler:
    @get(
        "/userinfo",
        operation_id="userinfo",
        responses=BEARER_ERRORS,
        summary="Who the bearer token speaks for: sub, email, roles, scopes",
        tags=["Users"],
        security=[{"bearer": []}],
    )
    async def user_info(request: Request[Any, Any, Any]) -> UserInfo:
        return await userinfo.of(current_claims(request))

    return user_info
