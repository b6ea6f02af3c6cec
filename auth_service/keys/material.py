"""Key pairs per JOSE algorithm, and their public JWKs (RFC 7517/7518/8037).

The published JWK is built from the public key alone, so it can never carry a private member or a
``key_ops: ["sign"]`` that strict libraries (jose) reject.
"""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

__all__ = ["PrivateKey", "generate_private_key", "load_private_key", "private_key_der", "public_jwk"]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def generate_private_key(alg: str) -> PrivateKey:
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unsupported signing algorithm {alg!r}")


def private_key_der(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(der: bytes, alg: str) -> PrivateKey:
    """Parse once per key (an RSA load validates the key and costs tens of milliseconds)."""
    key = serialization.load_der_private_key(der, password=None)
    expected = {
        "RS256": rsa.RSAPrivateKey,
        "ES256": ec.EllipticCurvePrivateKey,
        "EdDSA": ed25519.Ed25519PrivateKey,
    }
    if not isinstance(key, expected[alg]):
        raise ValueError(f"stored key is not a {alg} key")
    return key  # type: ignore[return-value]


def _b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode("ascii")


def _uint(value: int, length: int | None = None) -> str:
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return _b64(value.to_bytes(size, "big"))


def public_jwk(key: PrivateKey, kid: str, alg: str) -> dict[str, Any]:
    base: dict[str, Any] = {"kid": kid, "alg": alg, "use": "sig"}
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.public_key().public_numbers()
        return {"kty": "RSA", **base, "n": _uint(numbers.n), "e": _uint(numbers.e)}
    if isinstance(key, ec.EllipticCurvePrivateKey):
        point = key.public_key().public_numbers()
        return {"kty": "EC", **base, "crv": "P-256", "x": _uint(point.x, 32), "y": _uint(point.y, 32)}
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", **base, "crv": "Ed25519", "x": _b64(raw)}
