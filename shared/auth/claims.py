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
    auth_time: int | None = None
    """When the person logged in (Unix seconds; a refreshed token keeps its login's). Like ``amr``
    and ``acr`` (RFC 9068 section 2.2.1), absent when no person did: ``step_up.py`` reads them."""
    amr: list[str] = []
    """How the person logged in: RFC 8176 method values (``pwd``, ``otp``, ``hwk``, ``mfa``...)."""
    acr: str | None = None
    """The login's authentication context class (the issuer's levels: ``1`` one factor, ``2`` two)."""

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())
