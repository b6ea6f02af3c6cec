"""Compact JWS signing with a prepared key: the hot path of every token response.

The protected header (``alg``, ``kid``, ``typ``) is encoded once per key and ``typ``; per token
only the claims are encoded (msgspec) and signed (OpenSSL via cryptography). ``typ`` tells a
verifier what the token is for, so one kind is never accepted as another (RFC 8725 section 3.11):
``at+jwt`` access tokens (RFC 9068), ``JWT`` ID tokens, ``logout+jwt`` logout tokens (OpenID
Connect Back-Channel Logout 1.0 section 2.4). ES256 signatures are
converted from DER to the fixed-size ``r || s`` JWS wants (RFC 7518 section 3.4).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import msgspec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from auth_service.keys.material import PrivateKey

__all__ = ["JwsSigner"]

_encode_json = msgspec.json.Encoder().encode


def _b64(value: bytes) -> bytes:
    return base64.urlsafe_b64encode(value).rstrip(b"=")


def _signature_function(key: PrivateKey) -> Callable[[bytes], bytes]:
    if isinstance(key, rsa.RSAPrivateKey):
        pkcs1 = padding.PKCS1v15()
        sha256 = hashes.SHA256()
        return lambda data: key.sign(data, pkcs1, sha256)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        ecdsa = ec.ECDSA(hashes.SHA256())

        def sign_es256(data: bytes) -> bytes:
            r, s = decode_dss_signature(key.sign(data, ecdsa))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")

        return sign_es256
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign
    raise TypeError(f"unsupported key type {type(key).__name__}")


class JwsSigner:
    __slots__ = ("_headers", "_sign", "alg", "kid")

    def __init__(self, kid: str, alg: str, key: PrivateKey) -> None:
        self.kid = kid
        self.alg = alg
        self._headers: dict[str, bytes] = {}
        self._sign = _signature_function(key)

    def _header(self, typ: str) -> bytes:
        header = self._headers.get(typ)
        if header is None:
            header = _b64(_encode_json({"alg": self.alg, "kid": self.kid, "typ": typ})) + b"."
            self._headers[typ] = header
        return header

    def sign(self, claims: dict[str, Any], typ: str = "at+jwt") -> str:
        signing_input = self._header(typ) + _b64(_encode_json(claims))
        return (signing_input + b"." + _b64(self._sign(signing_input))).decode("ascii")
