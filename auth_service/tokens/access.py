"""RFC 9068 access tokens: the claims, signed by the keyring's active key."""

from __future__ import annotations

import secrets
import time
from typing import Any

import msgspec

from auth_service.keys.keyring import Keyring

__all__ = ["AccessToken", "AccessTokenIssuer"]


class AccessToken(msgspec.Struct, frozen=True):
    token: str
    jti: str
    exp: int
    expires_in: int


class AccessTokenIssuer:
    __slots__ = ("_audience", "_issuer", "_keyring", "_ttl")

    def __init__(self, keyring: Keyring, *, issuer: str, audience: str, ttl: int) -> None:
        self._keyring = keyring
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl

    def ensure_ready(self) -> None:
        """Raise ``NoSigningKey`` before a grant changes state it could not answer for."""
        _ = self._keyring.signer

    def new_jti(self) -> tuple[str, int]:
        """A fresh ``jti`` and the ``exp`` a token issued now gets (known before signing, so the
        refresh-token row can record them in the same statement that creates it)."""
        return secrets.token_urlsafe(16), int(time.time()) + self._ttl

    def issue(
        self,
        *,
        sub: str,
        client_id: str,
        scopes: list[str],
        roles: list[str],
        jti: str,
        exp: int,
        email: str | None = None,
        sid: str | None = None,
    ) -> AccessToken:
        now = exp - self._ttl
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "sub": sub,
            "aud": self._audience,
            "exp": exp,
            "iat": now,
            "nbf": now,
            "jti": jti,
            "client_id": client_id,
            "scope": " ".join(scopes),
            "roles": roles,
        }
        if email is not None:
            claims["email"] = email
        if sid is not None:
            claims["sid"] = sid
        return AccessToken(token=self._keyring.signer.sign(claims), jti=jti, exp=exp, expires_in=self._ttl)
