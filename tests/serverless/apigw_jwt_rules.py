"""What API Gateway's JWT authorizer (HTTP APIs) checks before it lets a request reach a function,
as its developer guide lists the steps ("Control access to HTTP APIs with JWT authorizers"):

1. the token from the identity source, alone or after ``Bearer``;
2. the issuer's OpenID discovery document at ``{issuer}/.well-known/openid-configuration``, over
   https, whose ``jwks_uri`` gives the keys (cached by API Gateway for up to two hours);
3. the signature, with "only RSA-based algorithms" supported;
4. the claims: ``kid`` names a key of that set; ``iss`` is the configured issuer; ``aud`` — or
   ``client_id`` only when there is no ``aud`` — matches one configured audience; ``exp`` after
   now; ``nbf`` and ``iat`` before now; ``scope`` (or ``scp``) holds at least one of the route's
   ``authorizationScopes``.

``failures`` returns every rule a token breaks (none: API Gateway passes it on to the function).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import jwt

__all__ = ["RSA_ALGORITHMS", "failures"]

RSA_ALGORITHMS = ("RS256", "RS384", "RS512")

Fetch = Callable[[str], Any]
"""GET a URL and return its JSON (a test routes it to the auth function)."""


def _audience_ok(claims: dict[str, Any], audiences: Sequence[str]) -> bool:
    if "aud" in claims:
        aud = claims["aud"]
        return any(a in audiences for a in ([aud] if isinstance(aud, str) else aud))
    return claims.get("client_id") in audiences


def _scope_ok(claims: dict[str, Any], route_scopes: Sequence[str]) -> bool:
    if not route_scopes:
        return True
    held = claims.get("scope", claims.get("scp", ""))
    names = held.split() if isinstance(held, str) else list(held)
    return any(scope in names for scope in route_scopes)


def failures(
    identity_source: str,
    *,
    issuer: str,
    audiences: Sequence[str],
    route_scopes: Sequence[str],
    fetch: Fetch,
    now: float | None = None,
) -> list[str]:
    if not issuer.startswith("https://"):
        return ["issuer is not an https URL"]
    token = identity_source.removeprefix("Bearer ").strip()
    discovery = fetch(f"{issuer}/.well-known/openid-configuration")
    jwks_uri = discovery.get("jwks_uri", "")
    if discovery.get("issuer") != issuer or not str(jwks_uri).startswith("https://"):
        return ["no discovery document for the issuer with an https jwks_uri"]
    header = jwt.get_unverified_header(token)
    if header.get("alg") not in RSA_ALGORITHMS:
        return [f"algorithm {header.get('alg')} is not RSA-based"]
    keys = {key.get("kid"): key for key in fetch(jwks_uri)["keys"]}
    if header.get("kid") not in keys:
        return ["kid names no key of the jwks_uri"]
    key = jwt.PyJWK(keys[header["kid"]]).key
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=list(RSA_ALGORITHMS),
            options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
    except jwt.InvalidSignatureError:
        return ["bad signature"]
    moment = time.time() if now is None else now
    broken = []
    if claims.get("iss") != issuer:
        broken.append("iss is not the configured issuer")
    if not _audience_ok(claims, audiences):
        broken.append("neither aud nor client_id matches an audience")
    if not claims.get("exp", 0) > moment:
        broken.append("exp is not after now")
    if "nbf" in claims and not claims["nbf"] <= moment:
        broken.append("nbf is not before now")
    if "iat" in claims and not claims["iat"] <= moment:
        broken.append("iat is not before now")
    if not _scope_ok(claims, route_scopes):
        broken.append("no scope of the route")
    return broken
