"""ID tokens (OpenID Connect Core sections 2 and 3.1.3.6) and the ``id_token_hint`` of a logout.

An ID token tells one client who logged in, when and how; it opens nothing, so its ``typ`` is
``JWT`` and never ``at+jwt`` (no resource server, this one included, takes it as an access token:
RFC 8725 section 3.11). ``aud`` and ``azp`` are the client; ``sid`` is the browser session (what a
back-channel logout token names); ``at_hash`` binds the access token issued with it, hashed with
the hash of the signing algorithm: SHA-256 for RS256/ES256, SHA-512 for EdDSA with Ed25519 (as
authlib and node-oidc-provider compute it).

An ``id_token_hint`` (RP-Initiated Logout 1.0 section 2) is checked for our signature and issuer
only: a logout commonly comes long after the token expired, so any ``exp`` is accepted. A hint
that does not verify is ``None``: the logout then asks the person to confirm.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections.abc import Callable, Collection
from typing import Any

import msgspec

from auth_service.keys.keyring import Keyring
from auth_service.oidc.claims import standard_claims
from auth_service.users.repository import UserRecord
from shared.auth.keys import KeySource

__all__ = ["ID_TOKEN_TYP", "HintClaims", "IdTokenHints", "IdTokenIssuer", "token_hash"]

ID_TOKEN_TYP = "JWT"  # noqa: S105
_HASHES: dict[str, Callable[[bytes], Any]] = {
    "RS256": hashlib.sha256,
    "PS256": hashlib.sha256,
    "ES256": hashlib.sha256,
    "RS384": hashlib.sha384,
    "PS384": hashlib.sha384,
    "ES384": hashlib.sha384,
    "RS512": hashlib.sha512,
    "PS512": hashlib.sha512,
    "ES512": hashlib.sha512,
    "EdDSA": hashlib.sha512,  # Ed25519 signs with SHA-512 (RFC 8032 section 5.1)
}
_MAX_HINT = 16 * 1024


def _b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode("ascii")


def token_hash(token: str, alg: str) -> str:
    """``at_hash`` (or ``c_hash``): the left half of the token's hash under ``alg``'s hash."""
    digest: bytes = _HASHES[alg](token.encode("ascii")).digest()
    return _b64(digest[: len(digest) // 2])


class IdTokenIssuer:
    """Signs ID tokens with the keyring's current key (the access tokens' key)."""

    __slots__ = ("_clock", "_issuer", "_keyring", "_ttl")

    def __init__(
        self, keyring: Keyring, *, issuer: str, ttl: int, clock: Callable[[], float] = time.time
    ) -> None:
        """``ttl``: ``settings.oidc.id_token_ttl``."""
        self._keyring = keyring
        self._issuer = issuer
        self._ttl = ttl
        self._clock = clock

    def issue(
        self,
        *,
        user: UserRecord,
        client_id: str,
        scopes: Collection[str],
        auth_time: int,
        amr: list[str],
        acr: str,
        sid: str | None,
        nonce: str | None,
        access_token: str | None,
    ) -> str:
        """``sid``: the browser session's id (None for a login without one); ``scopes``: the
        grant, whose ``profile``/``email`` release their claims here too."""
        signer = self._keyring.signer
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "sub": str(user.id),
            "aud": client_id,
            "exp": now + self._ttl,
            "iat": now,
            "auth_time": auth_time,
            "azp": client_id,
            "amr": amr,
            "acr": acr,
        }
        if nonce is not None:
            claims["nonce"] = nonce
        if sid is not None:
            claims["sid"] = sid
        if access_token is not None:
            claims["at_hash"] = token_hash(access_token, signer.alg)
        claims |= standard_claims(user, scopes)
        return signer.sign(claims, typ=ID_TOKEN_TYP)


class HintClaims(msgspec.Struct, frozen=True):
    """What a verified ``id_token_hint`` says: who, to which client, in which browser session."""

    sub: str
    aud: str
    """The client the ID token was issued to (its ``client_id``)."""
    sid: str | None = None


def _segment(value: str) -> bytes:
    if not value or not value.replace("-", "").replace("_", "").isalnum() or not value.isascii():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


class IdTokenHints:
    """Verifies ``id_token_hint`` values against this service's own published keys."""

    __slots__ = ("_issuer", "_keys")

    def __init__(self, keys: KeySource, *, issuer: str) -> None:
        """``keys``: the ``StaticKeySource`` built in ``wiring._signing_keys`` (no HTTP to itself)."""
        self._keys = keys
        self._issuer = issuer

    def verify_id_token_hint(self, token: str) -> HintClaims | None:
        """The hint's claims if we signed it as an ID token for our issuer (expired or not)."""
        if len(token) > _MAX_HINT or token.count(".") != 2:
            return None
        head, body, signature = token.split(".")
        try:
            header = msgspec.json.decode(_segment(head))
            payload = msgspec.json.decode(_segment(body))
            raw_signature = _segment(signature)
        except (ValueError, binascii.Error, msgspec.DecodeError):
            return None
        if not isinstance(header, dict) or not isinstance(payload, dict):
            return None
        key = self._keys.get(header["kid"]) if isinstance(header.get("kid"), str) else None
        if key is None or header.get("alg") != key.alg or header.get("typ") != ID_TOKEN_TYP:
            return None
        if not key.verify(f"{head}.{body}".encode("ascii"), raw_signature):
            return None
        if payload.get("iss") != self._issuer:
            return None
        try:
            return msgspec.convert(payload, HintClaims)
        except msgspec.ValidationError:
            return None
