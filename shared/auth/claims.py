"""The claims of a verified access token, as handlers see them."""

from __future__ import annotations

import msgspec

__all__ = ["AccessClaims"]


class AccessClaims(msgspec.Struct, frozen=True, kw_only=True):
    """RFC 9068 claims; ``scope`` is the space-separated string the token carries."""

    sub: str
    iss: str
    aud: str | list[str]
    exp: int
    iat: int
    jti: str
    client_id: str
    scope: str = ""
    roles: list[str] = []
    nbf: int | None = None
    email: str | None = None
    sid: str | None = None
    """The session (refresh-token family) the token was issued from; absent for client credentials."""

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())
