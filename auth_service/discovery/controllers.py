"""Public, cacheable documents: discovery metadata and the JWKS; and ``/userinfo`` (OIDC Core 5.3).

The JWKS answer is the keyring's pre-encoded body with ``Cache-Control: public, max-age`` and an
``ETag``; a matching ``If-None-Match`` gets ``304`` with no body.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, route
from litestar.datastructures import CacheControlHeader
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from auth_service.discovery.documents import CachedDocument, ServerMetadata
from auth_service.discovery.userinfo import UserInfo, UserInfoService
from auth_service.keys.keyring import Keyring
from auth_service.openapi_problems import BEARER_ERRORS

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


def _userinfo_operation_id(_: HTTPRouteHandler, method: str, __: list[Any]) -> str:
    """One route, two methods: each needs its own OpenAPI operation id."""
    return "userinfo" if method == "GET" else "userinfoPost"


def userinfo_handler(userinfo: UserInfoService) -> HTTPRouteHandler:
    """GET or POST (OpenID Connect Core section 5.3.1), the token in the ``Authorization`` header;
    verified by ``UserInfoService`` itself (any audience of ours), not by the bearer middleware."""

    @route(
        "/userinfo",
        http_method=["GET", "POST"],
        operation_id=_userinfo_operation_id,
        responses=BEARER_ERRORS,
        summary="The person's claims the access token's scopes release (needs scope openid)",
        tags=["OpenID Connect"],
        security=[{"bearer": []}],
        opt={"exclude_from_auth": True},
        cache_control=CacheControlHeader(no_store=True),
        status_code=200,
    )
    async def user_info(request: Request[Any, Any, Any]) -> UserInfo:
        return await userinfo.answer(request.headers.getall("authorization", []))

    return user_info
