"""``/userinfo``: who a bearer token speaks for, while that user still exists and is active.

The token verified already; what is checked here is the account behind it, since a token outlives
a disabling or a deletion by up to its lifetime. A client's own token (client_credentials: ``sub``
is the client) has no account behind it and answers with neither roles nor e-mail.
"""

from __future__ import annotations

import msgspec

from auth_service.users.service import UserService
from shared.auth.claims import AccessClaims
from shared.errors import DomainError

__all__ = ["TokenUserInactive", "UserInfo", "UserInfoService"]


class UserInfo(msgspec.Struct, omit_defaults=True):
    """Absent claims are left out, never ``null`` (OpenID Connect Core section 5.3.2)."""

    sub: str
    client_id: str
    scope: str
    scopes: list[str]
    roles: list[str] = []
    email: str | None = None


class TokenUserInactive(DomainError):
    """RFC 6750 ``invalid_token``: the token verifies, but its user is gone or disabled."""

    status = 401
    slug = "invalid-token"
    detail = "The token's user no longer exists or is disabled."


class UserInfoService:
    __slots__ = ("_challenge", "_users")

    def __init__(self, users: UserService, *, challenge: str) -> None:
        """``challenge``: the 401's ``WWW-Authenticate`` (``Bearer realm="auth", error="invalid_token"``)."""
        self._users = users
        self._challenge = challenge

    async def of(self, claims: AccessClaims) -> UserInfo:
        scopes = sorted(claims.scopes)
        if claims.sub == claims.client_id:
            return UserInfo(sub=claims.sub, client_id=claims.client_id, scope=claims.scope, scopes=scopes)
        user = await self._users.active_user(claims.sub)
        if user is None:
            raise TokenUserInactive(headers={"WWW-Authenticate": self._challenge})
        return UserInfo(
            sub=claims.sub,
            client_id=claims.client_id,
            scope=claims.scope,
            scopes=scopes,
            roles=user.roles,
            email=user.email,
        )
