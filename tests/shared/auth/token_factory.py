"""Keys, JWKS documents and tokens for verifier tests: real keys, signed with PyJWT."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

ISSUER = "http://issuer.test"
AUDIENCE = "customers"


@dataclass
class SigningKey:
    kid: str
    alg: str
    private: Any

    @classmethod
    def generate(cls, alg: str = "RS256", kid: str | None = None) -> SigningKey:
        private: Any
        if alg.startswith("RS") or alg.startswith("PS"):
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif alg == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
        elif alg == "EdDSA":
            private = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(alg)
        return cls(kid or f"{alg.lower()}-{uuid.uuid4().hex[:8]}", alg, private)

    def public_jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        converter: Any = (
            OKPAlgorithm if self.alg == "EdDSA" else ECAlgorithm if self.alg[0] == "E" else RSAAlgorithm
        )
        jwk = converter.to_jwk(public, as_dict=True)
        jwk.pop("key_ops", None)
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        header = {"kid": self.kid, "typ": "at+jwt", **(headers or {})}
        return jwt.encode(claims, self.private, algorithm=self.alg, headers=header)


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [key.public_jwk() for key in keys]}


@dataclass
class Claims:
    scope: str = "customers:read"
    values: dict[str, Any] = field(default_factory=dict)

    def build(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": "user-1",
            "aud": AUDIENCE,
            "exp": now + 600,
            "iat": now,
            "nbf": now,
            "jti": uuid.uuid4().hex,
            "client_id": "first-party",
            "scope": self.scope,
            "roles": ["agent"],
        }
        claims.update(self.values)
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims


def claims(**overrides: Any) -> dict[str, Any]:
    return Claims().build(**overrides)


def login_claims(*, mfa: bool, auth_time: float | None = None) -> dict[str, Any]:
    """``amr``, ``acr`` and ``auth_time`` of a person's login as the auth service issues them: a
    password alone (``pwd``, acr ``1``) or with a one-time code (``mfa``, acr ``2``); the login
    happened now unless ``auth_time`` says when."""
    how: dict[str, Any] = {"amr": ["pwd", "otp", "mfa"], "acr": "2"} if mfa else {"amr": ["pwd"], "acr": "1"}
    return {**how, "auth_time": int(time.time() if auth_time is None else auth_time)}
