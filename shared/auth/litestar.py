"""Bearer-token authentication for Litestar apps, answering per RFC 6750 §3.

- No ``Authorization`` header: 401 with ``WWW-Authenticate: Bearer realm="..."`` and no ``error``
  (the client did not try; §3.1).
- A header that is not one well-formed ``Bearer <token>``, or a token that fails verification:
  401 with ``error="invalid_token"`` and an ``error_description``.
- A valid token lacking a scope the route needs: 403 with ``error="insufficient_scope"`` and the
  ``scope`` it needs.
Bodies are problem+json, like every other error. A token in the query string is not looked at
(RFC 6750 §2.3 is a MAY that leaks tokens into logs).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, cast

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from shared.auth.claims import AccessClaims
from shared.auth.verifier import InvalidToken, RevocationCheckUnavailable, TokenVerifier
from shared.http.problems import ProblemError

__all__ = ["BearerAuthMiddleware", "bearer_challenge", "current_claims", "requires_scopes"]

_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_UNSAFE = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")  # RFC 6750 §3: no " or \ or controls


def bearer_challenge(
    realm: str, error: str | None = None, description: str | None = None, scope: str | None = None
) -> str:
    params = [f'realm="{_UNSAFE.sub("", realm)}"']
    if error:
        params.append(f'error="{error}"')
    if description:
        params.append(f'error_description="{_UNSAFE.sub("", description)}"')
    if scope:
        params.append(f'scope="{_UNSAFE.sub("", scope)}"')
    return "Bearer " + ", ".join(params)


def _unauthorized(realm: str, description: str, error: str | None = "invalid_token") -> ProblemError:
    return ProblemError(
        401,
        "invalid-token" if error else "authentication-required",
        description,
        headers={"WWW-Authenticate": bearer_challenge(realm, error, description if error else None)},
    )


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    """Verifies the bearer token of every route not excluded; handlers read ``request.auth``."""

    def __init__(
        self,
        app: ASGIApp,
        verifier: TokenVerifier,
        realm: str,
        exclude: str | list[str] | None = None,
        exclude_from_auth_key: str = "exclude_from_auth",
    ) -> None:
        super().__init__(app, exclude=exclude, exclude_from_auth_key=exclude_from_auth_key)
        self.verifier = verifier
        self.realm = realm

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        cast("dict[str, Any]", connection.scope)["bearer_realm"] = self.realm
        values = connection.headers.getall("authorization", [])
        if not values:
            raise _unauthorized(self.realm, "An access token is required.", error=None)
        if len(values) > 1:
            raise _unauthorized(self.realm, "More than one Authorization header.")
        scheme, _, token = values[0].partition(" ")
        if scheme.lower() != "bearer":
            raise _unauthorized(self.realm, "Use the Bearer authentication scheme.")
        if _B64TOKEN.fullmatch(token) is None:
            raise _unauthorized(self.realm, "The Authorization header is not 'Bearer <token>'.")
        try:
            claims = await self.verifier.verify(token)
        except InvalidToken as exc:
            raise _unauthorized(self.realm, exc.description) from None
        except RevocationCheckUnavailable:
            raise ProblemError(
                503,
                "revocation-check-unavailable",
                "Token revocation cannot be checked right now; retry shortly.",
                headers={"Retry-After": "2"},
            ) from None
        return AuthenticationResult(user=claims.sub, auth=claims)


def _realm(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return str(cast("dict[str, Any]", connection.scope).get("bearer_realm", "api"))


def current_claims(connection: ASGIConnection[Any, Any, Any, Any]) -> AccessClaims:
    claims = connection.scope.get("auth")
    if not isinstance(claims, AccessClaims):
        raise _unauthorized(_realm(connection), "An access token is required.", error=None)
    return claims


def requires_scopes(
    *scopes: str,
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """A guard: the token must carry every one of ``scopes``, else 403 ``insufficient_scope``."""
    needed = frozenset(scopes)
    scope_text = " ".join(scopes)

    # async on purpose: Litestar runs a sync guard in a worker thread, which costs more than the check.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if not needed <= current_claims(connection).scopes:
            realm = _realm(connection)
            raise ProblemError(
                403,
                "insufficient-scope",
                f"This needs the scope {scope_text}.",
                headers={
                    "WWW-Authenticate": bearer_challenge(
                        realm, "insufficient_scope", f"This needs the scope {scope_text}.", scope_text
                    )
                },
            )

    guard.__name__ = f"requires_scopes({scope_text})"
    return guard
