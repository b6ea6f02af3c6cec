"""Access-token validation per RFC 8725 (JWT best practices) and RFC 9068 (JWT access tokens).

The token is parsed here rather than by ``jwt.decode`` so that each check is explicit and each
part is done once: the header is read once, the key is chosen by ``kid`` and the algorithm comes
from that key, then PyJWT's algorithm object checks the signature. Headers that point elsewhere
(``jku``, ``x5u``, ``jwk``, ``x5c``) are never read, let alone fetched; ``crit`` is refused since
we implement no extension. JSON with duplicate member names is refused (RFC 8725 §3.5 / RFC 7515
§5.2). Verified tokens are cached (bounded LRU keyed by the token), so a client that reuses its
token pays for the signature once; every cached hit still checks expiry and revocation.

Revocation is checked by ``revocations`` (a ``RevocationFeed``: the auth service's revocations,
pushed and held in memory), synchronously: no network round trip per token. A revoked signing key
reaches the verifier through ``forget_key``.

The time is read from ``clock`` (``time.time`` unless a test hands in one it can move), so a test
sees a token expire without waiting for the real clock.
"""

from __future__ import annotations

import binascii
import json
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

import msgspec

from shared.auth.claims import AccessClaims
from shared.auth.keys import KeySource
from shared.auth.revocation_events import MAX_LEEWAY

__all__ = ["InvalidToken", "RevocationCheck", "RevocationCheckUnavailable", "TokenVerifier"]

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_ACCEPTED_TYP = frozenset({"at+jwt", "application/at+jwt"})
_REQUIRED_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "jti", "client_id")
_MAX_KID = 256


class InvalidToken(Exception):
    """The token is not acceptable; ``reason`` is a short code for metrics, ``description`` for clients."""

    def __init__(self, reason: str, description: str) -> None:
        super().__init__(description)
        self.reason = reason
        self.description = description


class RevocationCheckUnavailable(Exception):
    """Revocations cannot be checked now; the caller answers 503 rather than accept a revoked token."""


class RevocationCheck(Protocol):
    def check(self, claims: AccessClaims) -> None:
        """Raise ``InvalidToken("revoked", ...)`` for a revoked token, ``RevocationCheckUnavailable``
        when that cannot be known; called for every token, cached or not, so no I/O."""


def _b64decode(segment: str) -> bytes:
    if _B64URL.fullmatch(segment) is None or len(segment) % 4 == 1:
        raise InvalidToken("malformed", "The token is not three base64url segments.")
    padded = segment.translate(str.maketrans("-_", "+/")) + "=" * (-len(segment) % 4)
    try:
        return binascii.a2b_base64(padded, strict_mode=True)
    except binascii.Error:
        raise InvalidToken("malformed", "The token is not three base64url segments.") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member name")
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259)")


def _json_object(data: bytes, part: str) -> dict[str, Any]:
    # Deep nesting ends in RecursionError, and NaN/Infinity (which Python's json accepts) would
    # reach the time checks: both are malformed input like any other, never an unhandled error.
    try:
        value = json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise InvalidToken(
            "malformed", f"The token {part} is not a JSON object without duplicate names."
        ) from None
    if not isinstance(value, dict):
        raise InvalidToken("malformed", f"The token {part} is not a JSON object.")
    return value


def _is_number(value: Any) -> bool:
    """A finite JSON number: ``1e400`` parses as infinity, which no NumericDate is."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class TokenVerifier:
    """Verify bearer tokens for one resource server (``audience``) trusting one ``issuer``.

    ``audience=None`` checks no audience at all: only for the issuer's own introspection and
    revocation endpoints, which accept a token of any of its resources and decide themselves whom
    it may be shown to. A resource server always names its audience (the argument has no default).
    """

    __slots__ = (
        "_cache",
        "_cache_size",
        "_clock",
        "_keys",
        "_revocations",
        "audience",
        "issuer",
        "leeway",
        "max_token_bytes",
        "on_failure",
    )

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str | None,
        leeway: int = 30,
        max_token_bytes: int = 8192,
        revocations: RevocationCheck | None = None,
        cache_size: int = 10_000,
        on_failure: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` returns Unix seconds (wall time: ``exp``, ``nbf`` and ``iat`` are wall times).
        ``leeway`` is at most ``MAX_LEEWAY``: revocations are kept that long past expiry, no longer."""
        if not 0 <= leeway <= MAX_LEEWAY:
            raise ValueError(f"leeway must be between 0 and {MAX_LEEWAY} seconds, not {leeway}")
        self._keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.max_token_bytes = max_token_bytes
        self._revocations = revocations
        self._cache: OrderedDict[str, AccessClaims] = OrderedDict()
        self._cache_size = cache_size
        self.on_failure = on_failure
        self._clock = clock

    def is_ready(self) -> bool:
        return self._keys.is_ready()

    def now(self) -> float:
        """The verifier's time, for checks after verification (``auth_time`` against a ``max_age``)."""
        return self._clock()

    def forget_key(self, kid: str) -> None:
        """The key ``kid`` was revoked: never use it again, and forget the tokens it verified."""
        self._keys.revoke(kid)
        self._cache.clear()

    async def verify(self, token: str) -> AccessClaims:
        try:
            claims = self._cache.get(token)
            now = self._clock()
            if claims is None:
                claims = await self._verify_uncached(token, now)
                self._remember(token, claims)
            elif claims.exp + self.leeway <= now:
                del self._cache[token]
                raise InvalidToken("expired", "The access token expired.")
            else:
                self._cache.move_to_end(token)
            if self._revocations is not None:
                self._revocations.check(claims)
            return claims
        except InvalidToken as exc:
            if self.on_failure is not None:
                self.on_failure(exc.reason)
            raise

    def _remember(self, token: str, claims: AccessClaims) -> None:
        cache = self._cache
        cache[token] = claims
        if len(cache) > self._cache_size:
            cache.popitem(last=False)

    async def _verify_uncached(self, token: str, now: float) -> AccessClaims:
        if len(token) > self.max_token_bytes:
            raise InvalidToken("too_large", "The access token is too large.")
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("malformed", "The token is not three base64url segments.")
        header = _json_object(_b64decode(parts[0]), "header")
        key = await self._key_for(header)
        # Every segment is checked as base64url before the signing input is built: a segment with
        # any other character (``%C3%A9``) is malformed, never an encoding error.
        payload_bytes, signature = _b64decode(parts[1]), _b64decode(parts[2])
        if not key.verify(f"{parts[0]}.{parts[1]}".encode("ascii"), signature):
            raise InvalidToken("bad_signature", "The token signature is invalid.")
        payload = _json_object(payload_bytes, "payload")
        self._check_claims(payload, now)
        try:
            return msgspec.convert(payload, AccessClaims)
        except msgspec.ValidationError as exc:
            raise InvalidToken("bad_claims", f"The token claims are invalid: {exc}.") from None

    async def _key_for(self, header: dict[str, Any]) -> Any:
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in _ACCEPTED_TYP:
            raise InvalidToken("wrong_type", "The token is not an access token (typ must be at+jwt).")
        if "crit" in header:
            raise InvalidToken(
                "unsupported_crit", "The token requires an extension this server does not support."
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid or len(kid) > _MAX_KID:
            raise InvalidToken("no_kid", "The token header has no usable kid.")
        key = self._keys.get(kid)
        if key is None:
            await self._keys.refresh_for_unknown_kid(kid)
            key = self._keys.get(kid)
            if key is None:
                raise InvalidToken("unknown_kid", "The token was signed with an unknown key.")
        if header.get("alg") != key.alg:
            raise InvalidToken("wrong_alg", "The token algorithm does not match its key.")
        return key

    def _check_claims(self, payload: dict[str, Any], now: float) -> None:
        missing = [name for name in _REQUIRED_CLAIMS if name not in payload]
        if missing:
            raise InvalidToken("missing_claims", f"The token lacks required claims: {', '.join(missing)}.")
        if payload["iss"] != self.issuer:
            raise InvalidToken("wrong_issuer", "The token was issued by another server.")
        aud = payload["aud"]
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not audiences or (self.audience is not None and self.audience not in audiences):
            raise InvalidToken("wrong_audience", "The token is not meant for this service.")
        exp, iat, nbf, auth_time = (
            payload["exp"],
            payload["iat"],
            payload.get("nbf"),
            payload.get("auth_time"),
        )
        optional = (value for value in (nbf, auth_time) if value is not None)
        if not _is_number(exp) or not _is_number(iat) or not all(map(_is_number, optional)):
            raise InvalidToken("bad_claims", "The token time claims are not numbers.")
        if exp + self.leeway <= now:
            raise InvalidToken("expired", "The access token expired.")
        if nbf is not None and nbf - self.leeway > now:
            raise InvalidToken("not_yet_valid", "The access token is not valid yet.")
        if iat - self.leeway > now:
            raise InvalidToken("issued_in_future", "The access token was issued in the future.")
        if not isinstance(payload["sub"], str) or not payload["sub"]:
            raise InvalidToken("bad_claims", "The token subject is missing.")
        # NumericDate may be fractional (RFC 7519 §2); handlers see whole seconds.
        payload["exp"], payload["iat"] = int(exp), int(iat)
        if nbf is not None:
            payload["nbf"] = int(nbf)
        if auth_time is not None:
            payload["auth_time"] = int(auth_time)
