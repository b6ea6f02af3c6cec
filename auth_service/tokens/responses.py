"""The token endpoint's success answer (RFC 6749 section 5.1)."""

from __future__ import annotations

import msgspec

__all__ = ["BEARER", "TokenResponse"]

BEARER = "Bearer"


class TokenResponse(msgspec.Struct, omit_defaults=True):
    """``scope`` is left out when the token carries none; ``refresh_token`` when none is issued;
    ``id_token`` (OpenID Connect Core section 3.1.3.3) only when a person's login granted ``openid``."""

    access_token: str
    token_type: str
    expires_in: int
    scope: str | None = None
    refresh_token: str | None = None
    id_token: str | None = None

    @staticmethod
    def scope_of(scopes: list[str]) -> str | None:
        return " ".join(scopes) or None
