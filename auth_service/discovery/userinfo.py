"""``/userinfo`` (OpenID Connect Core section 5.3): the claims a person's access token was granted.

Not behind the bearer middleware: that one admits tokens for ``auth`` only, while a client calls
``/userinfo`` with the token it got at login, whatever its audience (an identity-only login's is
``{issuer}/userinfo``; one with resource scopes is for those resource servers). So the token is
verified here for any audience of ours, with the same keys, issuer and revocation feed; it must
carry ``openid`` (else 403 ``insufficient_scope``, RFC 6750 section 3.1). The account is read
again: a token outlives a disabling or a deletion by up to its lifetime, and the claims are the
account's now. Absent claims are omitted, never ``null`` (section 5.3.2).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

from auth_service.oidc.claims import standard_claims
from auth_service.oidc.scopes import OPENID
from auth_service.users.service import UserService
from shared.auth.litestar import bearer_challenge
from shared.auth.verifier import InvalidToken, RevocationCheckUnavailable, TokenVerifier
from shared.errors import DomainError

__all__ = ["UserInfo", "UserInfoRefused", "UserInfoService"]

_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750 section 2.1


class UserInfo(msgspec.Struct, omit_defaults=True):
    """``sub`` and the standard claims the token's scopes release (``profile``, ``email``)."""

    sub: str
    email: str | None = None
    email_verified: bool | None = None
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    locale: str | None = None
    updated_at: int | None = None


class UserInfoRefused(DomainError):
    """401 (no, a bad or a dead token) with its RFC 6750 challenge in ``headers``."""

    status = 401
    slug = "invalid-token"


class _NoToken(UserInfoRefused):
    slug = "authentication-required"


class _NoOpenId(UserInfoRefused):
    status = 403
    slug = "insufficient-scope"


class _RevocationUnknown(DomainError):
    status = 503
    slug = "revocation-check-unavailable"


class UserInfoService:
    __slots__ = ("_realm", "_users", "_verifier")

    def __init__(self, users: UserService, verifier: TokenVerifier, *, realm: str) -> None:
        """``verifier``: this service's keys and issuer, ``audience=None``, the revocation feed."""
        self._users = users
        self._verifier = verifier
        self._realm = realm

    def _refused(self, description: str) -> UserInfoRefused:
        challenge = bearer_challenge(self._realm, "invalid_token", description)
        return UserInfoRefused(description, headers={"WWW-Authenticate": challenge})

    def _token(self, authorization: Sequence[str]) -> str:
        if not authorization:
            challenge = bearer_challenge(self._realm)
            raise _NoToken("An access token is required.", headers={"WWW-Authenticate": challenge})
        if len(authorization) > 1:
            raise self._refused("More than one Authorization header.")
        scheme, _, token = authorization[0].partition(" ")
        if scheme.lower() != "bearer" or _B64TOKEN.fullmatch(token) is None:
            raise self._refused("The Authorization header is not 'Bearer <token>'.")
        return token

    async def answer(self, authorization: Sequence[str]) -> UserInfo:
        """``authorization``: every ``Authorization`` header of the request."""
        try:
            claims = await self._verifier.verify(self._token(authorization))
        except InvalidToken as exc:
            raise self._refused(exc.description) from None
        except RevocationCheckUnavailable:
            detail = "Token revocation cannot be checked right now; retry shortly."
            raise _RevocationUnknown(detail, headers={"Retry-After": "2"}) from None
        if OPENID not in claims.scopes:
            description = "This needs the scope openid."
            challenge = bearer_challenge(self._realm, "insufficient_scope", description, OPENID)
            raise _NoOpenId(description, headers={"WWW-Authenticate": challenge})
        user = await self._users.active_record(claims.sub)
        if user is None:
            raise self._refused("The token's user no longer exists or is disabled.")
        return UserInfo(sub=claims.sub, **standard_claims(user, claims.scopes))
