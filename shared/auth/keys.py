"""Public verification keys, parsed once from JWKs, and the sources a verifier reads them from.

A key's algorithm comes from its JWK (``alg``), never from a token: a token whose header names
another algorithm is refused, which rules out ``none`` and HMAC-with-a-public-key confusion
(RFC 8725 §3.1). Symmetric (``oct``) keys and JWKs that carry private members are refused too.

A JWK is input from the network: ``PreparedKey.from_jwk`` raises ``UnusableKey`` and nothing else
for any mapping, so one odd entry costs that entry only, never the rest of its set.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import Algorithm, get_default_algorithms

__all__ = [
    "ALLOWED_ALGORITHMS",
    "KeySource",
    "PreparedKey",
    "RevokedKids",
    "StaticKeySource",
    "UnusableKey",
    "prepare_key_set",
]

log = logging.getLogger(__name__)

ALLOWED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_ALGORITHMS: dict[str, Algorithm] = {
    name: alg for name, alg in get_default_algorithms().items() if name in ALLOWED_ALGORITHMS
}
_RSA = ("RSA", (None,), ("n", "e"))
# alg -> (kty, the curves it may use (RFC 7518 §3.4, RFC 8037 §3.1), base64url members)
_KEY_SHAPES: dict[str, tuple[str, tuple[str | None, ...], tuple[str, ...]]] = {
    **dict.fromkeys(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), _RSA),
    "ES256": ("EC", ("P-256",), ("x", "y")),
    "ES384": ("EC", ("P-384",), ("x", "y")),
    "ES512": ("EC", ("P-521",), ("x", "y")),
    "EdDSA": ("OKP", ("Ed25519", "Ed448"), ("x",)),
}
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")  # RFC 7515 §2: no padding, no other characters
# RFC 7518 §3.3 requires 2048 bits at least; far larger moduli only make every verify slow.
_RSA_BITS = range(2048, 16384 + 1)


class UnusableKey(ValueError):
    """A JWK this verifier will not use (the reason is the message)."""


def _shown(value: object) -> str:
    return repr(value)[:60]


@dataclass(frozen=True, slots=True)
class PreparedKey:
    kid: str
    alg: str
    algorithm: Algorithm
    key: Any

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PreparedKey:
        """Raises ``UnusableKey`` for any JWK it will not use, whatever its members hold."""
        kid, alg = jwk.get("kid"), jwk.get("alg")
        if not isinstance(kid, str) or not kid:
            raise UnusableKey("no kid")
        if not isinstance(alg, str) or alg not in _ALGORITHMS:
            raise UnusableKey(f"alg {_shown(alg)} is not an allowed signature algorithm")
        if jwk.get("use", "sig") != "sig":
            raise UnusableKey("use is not sig")
        key_ops = jwk.get("key_ops", ["verify"])
        if not isinstance(key_ops, list) or "verify" not in key_ops:
            raise UnusableKey("key_ops is not a list allowing verify")
        if _PRIVATE_MEMBERS & jwk.keys():
            raise UnusableKey("private or symmetric key material in a public key set")
        _check_shape(jwk, alg)
        try:
            key = jwt.PyJWK(dict(jwk)).key
        except Exception as exc:  # PyJWT raises assorted types for malformed members, not only its own
            raise UnusableKey(f"{type(exc).__name__}: {str(exc)[:120]}") from None
        if isinstance(key, RSAPublicKey) and key.key_size not in _RSA_BITS:
            raise UnusableKey(f"RSA modulus of {key.key_size} bits (2048 to 16384 allowed)")
        return cls(kid=kid, alg=alg, algorithm=_ALGORITHMS[alg], key=key)

    def verify(self, signing_input: bytes, signature: bytes) -> bool:
        return bool(self.algorithm.verify(signing_input, self.key, signature))


def _check_shape(jwk: Mapping[str, Any], alg: str) -> None:
    """The members ``alg`` needs, each of the type and form RFC 7518 gives it (PyJWT is lenient)."""
    kty, curves, members = _KEY_SHAPES[alg]
    if jwk.get("kty") != kty:
        raise UnusableKey(f"kty {_shown(jwk.get('kty'))} does not fit alg {alg}")
    if jwk.get("crv") not in curves:
        raise UnusableKey(f"crv {_shown(jwk.get('crv'))} does not fit alg {alg}")
    for member in members:
        value = jwk.get(member)
        if not isinstance(value, str) or _BASE64URL.fullmatch(value) is None:
            raise UnusableKey(f"{member} is not base64url")


class RevokedKids:
    """Kids a verifier was told are revoked, newest ``limit`` kept.

    Bounded so that no stream of events can grow it without end; a kid is never reused, and an
    issuer revokes far fewer than ``limit`` keys within the lifetime of any token they signed.
    """

    __slots__ = ("_kids", "_limit")

    def __init__(self, limit: int = 1000) -> None:
        self._kids: OrderedDict[str, None] = OrderedDict()
        self._limit = limit

    def add(self, kid: str) -> bool:
        """Remember ``kid``; False if it was already known (the caller need not act again)."""
        known = kid in self._kids
        self._kids[kid] = None
        self._kids.move_to_end(kid)
        if len(self._kids) > self._limit:
            self._kids.popitem(last=False)
        return not known

    def __contains__(self, kid: object) -> bool:
        return isinstance(kid, str) and kid in self._kids


def prepare_key_set(entries: list[Any], *, refused: RevokedKids) -> dict[str, PreparedKey]:
    """The usable keys of a JWKS ``keys`` array by kid; every other entry is logged and skipped.

    A kid listed twice is refused for both keys: nothing says which of them the issuer meant, and
    taking either would let an entry appended to the set shadow the real key.
    """
    kids = [entry.get("kid") if isinstance(entry, dict) else None for entry in entries]
    listed = Counter(kid for kid in kids if isinstance(kid, str))
    keys: dict[str, PreparedKey] = {}
    for entry, kid in zip(entries, kids, strict=True):
        if not isinstance(entry, dict):
            log.info("ignoring JWKS entry %s: not a JSON object", _shown(entry))
        elif isinstance(kid, str) and listed[kid] > 1:
            log.warning("refusing JWK %s: %d keys in the set have that kid", _shown(kid), listed[kid])
        elif kid in refused:
            log.info("ignoring JWK %s: revoked", _shown(kid))
        else:
            try:
                key = PreparedKey.from_jwk(entry)
            except UnusableKey as exc:
                log.info("ignoring JWK %s: %s", _shown(kid), exc)
                continue
            keys[key.kid] = key
    return keys


class KeySource(Protocol):
    def get(self, kid: str) -> PreparedKey | None:
        """The key for ``kid`` if it is known and usable now (a dict lookup: called per token)."""

    async def refresh_for_unknown_kid(self, kid: str) -> None:
        """A token named a kid we do not have: the source may refetch, within its own rate limit.

        Never raises: a source that cannot refetch keeps what it has.
        """

    def is_ready(self) -> bool:
        """Keys have been loaded and are not past their usable age."""

    def revoke(self, kid: str) -> None:
        """The issuer revoked ``kid``: never use it again, even if a key set still lists it.

        Synchronous and never raises, so an event handler can call it from anywhere.
        """


class StaticKeySource:
    """Keys handed over by their owner, e.g. the auth service verifying its own tokens."""

    __slots__ = ("_keys", "_revoked")

    def __init__(self, keys: Iterable[PreparedKey] = ()) -> None:
        self._revoked = RevokedKids()
        self._keys: dict[str, PreparedKey] = {}
        self.replace(keys)

    def replace(self, keys: Iterable[PreparedKey]) -> None:
        """Revoked kids stay out: a reload that read the keys before the revocation may land after it."""
        self._keys = {key.kid: key for key in keys if key.kid not in self._revoked}

    def get(self, kid: str) -> PreparedKey | None:
        return self._keys.get(kid)

    async def refresh_for_unknown_kid(self, kid: str) -> None:
        return None

    def is_ready(self) -> bool:
        return bool(self._keys)

    def revoke(self, kid: str) -> None:
        self._revoked.add(kid)
        self._keys.pop(kid, None)
