"""Bearer-token authentication for Litestar apps, answering per RFC 6750 §3.

- No ``Authorization`` header: 401 with ``WWW-Authenticate: Bearer realm="..."`` and no ``error``
  (the client did not try; §3.1).
- A header that is not one well-formed ``Bearer <token>``, or a token that fails verification:
  401 with ``error="invalid_token"`` and an ``error_description``.
- A valid token lacking a scope the route needs (``opt=requires_scopes(...)``): 403 with
  ``error="insufficient_scope"`` and the ``scope`` it needs.
- A token with every scope whose login is not strong or recent enough for the route
  (``opt=requires_mfa()``, ``requires_authentication(...)``; ``step_up.py``): 401 with
  ``error="insufficient_user_authentication"`` and the ``acr_values`` and/or ``max_age`` to log in
  with again (RFC 9470).
- A token whose revocation cannot be checked now (``RevocationCheckUnavailable``: the revocations
  are not loaded, or Redis was last read longer ago than the grace): 503 with ``Retry-After``,
  never a pass; a revoked token is a 401 like any other invalid one.
Bodies are problem+json, like every other error. A token in the query string is not looked at
(RFC 6750 §2.3 is a MAY that leaks tokens into logs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict, cast

import msgspec
from litestar.connection import ASGIConnection
from litestar.middleware.authentication import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

if TYPE_CHECKING:
    from litestar import Litestar

from shared.auth.claims import AccessClaims
from shared.auth.step_up import AUTHENTICATION_OPT, Shortfall, requires_authentication, requires_mfa
from shared.auth.verifier import InvalidToken, RevocationCheckUnavailable, TokenVerifier
from shared.http.problems import ProblemError

__all__ = [
    "SCOPES_OPT",
    "BearerAuthMiddleware",
    "ScopeRequirement",
    "ScopedRoute",
    "bearer_challenge",
    "check_scoped_routes_authenticated",
    "current_claims",
    "requires_authentication",
    "requires_mfa",
    "requires_scopes",
    "scoped_route",
]

SCOPES_OPT = "required_scopes"
"""The ``opt`` key of a route's ``ScopeRequirement``."""

_CHECKED_BY_MIDDLEWARE = ((SCOPES_OPT, "scopes"), (AUTHENTICATION_OPT, "a login strength"))
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_UNSAFE = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")  # RFC 6750 §3: no " or \ or controls


def bearer_challenge(
    realm: str,
    error: str | None = None,
    description: str | None = None,
    scope: str | None = None,
    *,
    acr_values: str | None = None,
    max_age: int | None = None,
) -> str:
    """RFC 6750 section 3's parameters, and RFC 9470 section 3's ``acr_values`` and ``max_age``."""
    params = [f'realm="{_UNSAFE.sub("", realm)}"']
    if error:
        params.append(f'error="{error}"')
    if description:
        params.append(f'error_description="{_UNSAFE.sub("", description)}"')
    if scope:
        params.append(f'scope="{_UNSAFE.sub("", scope)}"')
    if acr_values:
        params.append(f'acr_values="{_UNSAFE.sub("", acr_values)}"')
    if max_age is not None:
        params.append(f'max_age="{max_age}"')
    return "Bearer " + ", ".join(params)


def _unauthorized(realm: str, description: str, error: str | None = "invalid_token") -> ProblemError:
    return ProblemError(
        401,
        "invalid-token" if error else "authentication-required",
        description,
        headers={"WWW-Authenticate": bearer_challenge(realm, error, description if error else None)},
    )


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    """Verifies the bearer token of every route not excluded, then the scopes the route requires;
    handlers read ``request.auth``."""

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
        opt = connection.scope["route_handler"].opt
        required = opt.get(SCOPES_OPT)
        if required is not None and not required.needed <= claims.scopes:
            raise _insufficient_scope(self.realm, required)
        strength = opt.get(AUTHENTICATION_OPT)
        if strength is not None:
            shortfall = strength.shortfall(claims, self.verifier.now(), self.verifier.leeway)
            if shortfall is not None:
                raise _insufficient_authentication(self.realm, shortfall)
        return AuthenticationResult(user=claims.sub, auth=claims)


def _realm(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return str(cast("dict[str, Any]", connection.scope).get("bearer_realm", "api"))


def current_claims(connection: ASGIConnection[Any, Any, Any, Any]) -> AccessClaims:
    claims = connection.scope.get("auth")
    if not isinstance(claims, AccessClaims):
        raise _unauthorized(_realm(connection), "An access token is required.", error=None)
    return claims


class ScopeRequirement(msgspec.Struct, frozen=True):
    """The scopes a route needs, as ``requires_scopes`` stores them in the route's ``opt``."""

    needed: frozenset[str]
    text: str
    """The scopes space-separated, in the order the route names them (the challenge's ``scope``)."""


def requires_scopes(*scopes: str) -> dict[str, Any]:
    """Route options (``opt=``) saying the token must carry every one of ``scopes``.

    Pass them to a route handler, Controller or Router; ``BearerAuthMiddleware`` checks them right
    after verifying the token and answers 403 ``insufficient_scope`` when one is missing. Litestar
    merges ``opt`` from the app down to the handler, the innermost layer winning: a handler's
    requirement replaces its Router's, so it names every scope it needs. Not a guard, because
    Litestar copies the route handler for every guard call (about 5 % of a customer GET).
    """
    return {SCOPES_OPT: ScopeRequirement(frozenset(scopes), " ".join(scopes))}


class ScopedRoute(TypedDict):
    opt: dict[str, Any]
    security: list[dict[str, list[str]]]


def scoped_route(scheme: str, *scopes: str, opt: Mapping[str, Any] | None = None) -> ScopedRoute:
    """``requires_scopes`` and the OpenAPI ``security`` entry naming the same scopes, so a route
    names them once: ``@get("/", **scoped_route("bearerToken", "customers:read"))``. ``opt``: more
    route options, e.g. ``opt=requires_mfa()``."""
    return {"opt": {**(opt or {}), **requires_scopes(*scopes)}, "security": [{scheme: list(scopes)}]}


def check_scoped_routes_authenticated(app: Litestar, exclude: Sequence[str]) -> None:
    """Refuse to build an app in which a route requiring scopes (or a login strength, RFC 9470) is
    served without a token.

    A guard failed closed on such a route (no claims: 401); a scope requirement in ``opt`` is
    checked by the middleware, which never runs on an excluded path. So an exclusion pattern that
    matches a scoped route, or ``exclude_from_auth`` on one, would serve it to anyone: found here,
    at start-up, rather than by an attacker.
    """
    patterns = [re.compile(pattern) for pattern in exclude]
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            needs = [what for key, what in _CHECKED_BY_MIDDLEWARE if key in handler.opt]
            if not needs:
                continue
            if handler.opt.get("exclude_from_auth") or any(p.search(route.path) for p in patterns):
                raise ValueError(
                    f"{route.path} requires {' and '.join(needs)} but is served without a bearer token"
                )


def _insufficient_scope(realm: str, required: ScopeRequirement) -> ProblemError:
    description = f"This needs the scope {required.text}."
    return ProblemError(
        403,
        "insufficient-scope",
        description,
        headers={
            "WWW-Authenticate": bearer_challenge(realm, "insufficient_scope", description, required.text)
        },
    )


def _insufficient_authentication(realm: str, shortfall: Shortfall) -> ProblemError:
    error = "insufficient_user_authentication"
    challenge = bearer_challenge(
        realm, error, shortfall.description, acr_values=shortfall.acr_values, max_age=shortfall.max_age
    )
    return ProblemError(
        401,
        "insufficient-user-authentication",
        shortfall.description,
        headers={"WWW-Authenticate": challenge},
    )
