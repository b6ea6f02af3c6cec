"""The standard claims (OpenID Connect Core section 5.1) a person's granted scopes release.

One function answers both the ID token and ``/userinfo`` (section 5.4: ``profile`` and ``email``
ask for the same claims in either), so the two can never disagree; a claim the account does not
have is omitted, never ``null`` (section 5.3.2). ``CLAIMS_SUPPORTED`` is what discovery advertises:
exactly what this module and ``id_tokens.py`` can put in a token or an answer.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from auth_service.users.repository import UserRecord

__all__ = ["CLAIMS_SUPPORTED", "EMAIL_CLAIMS", "ID_TOKEN_CLAIMS", "PROFILE_CLAIMS", "standard_claims"]

EMAIL_CLAIMS = ("email", "email_verified")
PROFILE_CLAIMS = ("name", "given_name", "family_name", "locale", "updated_at")
ID_TOKEN_CLAIMS = (
    "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp", "sid", "amr", "acr", "at_hash",
)  # fmt: skip
CLAIMS_SUPPORTED = (*ID_TOKEN_CLAIMS, *EMAIL_CLAIMS, *PROFILE_CLAIMS)


def standard_claims(user: UserRecord, scopes: Collection[str]) -> dict[str, Any]:
    """The claims of ``user`` that ``scopes`` release (``sub`` is the caller's: it is always there)."""
    claims: dict[str, Any] = {}
    if "email" in scopes:
        claims["email"] = user.email
        claims["email_verified"] = user.email_verified
    if "profile" in scopes:
        for name in ("name", "given_name", "family_name", "locale"):
            value = getattr(user, name)
            if value is not None:
                claims[name] = value
        claims["updated_at"] = int(user.updated_at.timestamp())
    return claims
