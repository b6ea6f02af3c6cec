"""The token endpoint's success answer (RFC 6749 section 5.1)."""

from __future__ import annotations

import msgspec

__all__ = ["BEARER", "TokenResponse"]

BEARER = "Bearer"


class TokenResponse(msgspec.Struct, omit_defaults=True):
    access_token: str
    token_type: str
    expires_in: int
    scope: str
    refresh_token: str | None = None
