"""``/api/1/admin/tokens``: an admin revokes any token of this issuer (``admin:users`` for a user's
token, ``admin:clients`` for a client's own), see ``tokens/admin_revocation.py``."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Router, post
from litestar.params import Body

from auth_service.actors import RequestActors
from auth_service.openapi_problems import ADMIN_BODY_ERRORS
from auth_service.tokens.admin_revocation import AdminTokenRevocation, InsufficientScope
from shared.auth.litestar import bearer_challenge, current_claims

__all__ = ["TokenToRevoke", "admin_tokens_router"]

TAGS = ["Admin: tokens"]


class TokenToRevoke(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    token: Annotated[
        str,
        msgspec.Meta(
            min_length=1, max_length=8192, description="An access token (JWT) or refresh token of this issuer"
        ),
    ]


def admin_tokens_router(revocation: AdminTokenRevocation, actors: RequestActors, realm: str) -> Router:
    """Mounted under the admin router beside the areas: which area's scope it needs depends on
    the token, so the service checks it (``realm`` names the ``WWW-Authenticate`` challenge)."""

    @post(
        "/revoke",
        operation_id="adminRevokeToken",
        responses=ADMIN_BODY_ERRORS,
        summary="Revoke any access or refresh token (admin:users for a user's, admin:clients for a client's)",
        description=(
            "The token stops working everywhere within seconds: an access token by its jti, a refresh "
            "token with its whole session. A token that is unknown, expired or not this issuer's is a "
            "success too (RFC 7009). Audited as token.revoke."
        ),
        status_code=204,
    )
    async def revoke_token(request: Request[Any, Any, Any], data: Annotated[TokenToRevoke, Body()]) -> None:
        try:
            await revocation.revoke(data.token, current_claims(request).scopes, actors.of(request))
        except InsufficientScope as refusal:
            refusal.headers = {
                "WWW-Authenticate": bearer_challenge(
                    realm, "insufficient_scope", refusal.detail, refusal.scope
                )
            }
            raise

    return Router("/tokens", route_handlers=[revoke_token], tags=TAGS)
