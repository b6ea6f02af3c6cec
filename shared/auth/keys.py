"""Public verification keys, parsed once from JWKs, and the sources a verifier reads them from.

A key's algorithm comes from its JWK (``alg``), never from a token: a token whose header names
another algorithm is refused, which rules out ``none`` and HMAC-with-a-public-key confusion
(RFC 8725 §3.1). Symmetric (``oct``) keys and JWKs that carry private members are refused too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import jwt
from jwt.algorithms import Algorithm, get_default_algorithms

__all__ = ["ALLOWED_ALGORITHMS", "KeySource", "PreparedKey", "StaticKeySource", "UnusableKey"]

ALLOWED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_ALGORITHMS: dict[str, Algorithm] = {
    name: alg for name, alg in get_default_algorithms().items() if name in ALLOWED_ALGORITHMS
}


class UnusableKey(ValueError):
    """A JWK this verifier will not use (the reason is the message)."""


@dataclass(frozen=True, slots=True)
class PreparedKey:
    kid: str
    alg: str
    algorithm: Algorithm
    key: Any

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PreparedKey:
        kid, alg = jwk.get("kid"), jwk.get("alg")
        if not isinstance(kid, str) or not kid:
            raise UnusableKey("no kid")
        if alg not in _ALGORITHMS:
            raise UnusableKey(f"alg {alg!r} is not an allowed signature algorithm")
        if jwk.get("use", "sig") != "sig":
            raise UnusableKey("use is not sig")
        if "key_ops" in jwk and "verify" not in jwk["key_ops"]:
            raise UnusableKey("key_ops does not allow verify")
        if _PRIVATE_MEMBERS & jwk.keys():
            raise UnusableKey("private or symmetric key material in a public key set")
        try:
            key = jwt.PyJWK(dict(jwk)).key
        except jwt.PyJWTError as exc:
            raise UnusableKey(str(exc)) from None
        return cls(kid=kid, alg=str(alg), algorithm=_ALGORITHMS[str(alg)], key=key)

    def verify(self, signing_input: bytes, signature: bytes) -> bool:
        return bool(self.algorithm.verify(signing_input, self.key, signature))


class KeySource(Protocol):
    def get(self, kid: str) -> PreparedKey | None:
        """The key for ``kid`` if it is known and usable now (a dict lookup: called per token)."""

    async def refresh_for_unknown_kid(self, kid: str) -> None:
        """A token named a kid we do not have: the source may refetch, within its own rate limit."""

    def is_ready(self) -> bool:
        """Keys have been loaded and are not past their usable age."""


class StaticKeySource:
    """Keys handed over by their owner, e.g. the auth service verifying its own tokens."""

    __slots__ = ("_keys",)

    def __init__(self, keys: Iterable[PreparedKey] = ()) -> None:
        self._keys: dict[str, PreparedKey] = {key.kid: key for key in keys}

    def replace(self, keys: Iterable[PreparedKey]) -> None:
        self._keys = {key.kid: key for key in keys}

    def get(self, kid: str) -> PreparedKey | None:
        return self._keys.get(kid)

    async def refresh_for_unknown_kid(self, kid: str) -> None:
        return None

    def is_ready(self) -> bool:
        return bool(self._keys)
