"""The authorization server metadata (RFC 8414), also served as OpenID Connect discovery.

Encoded once and re-encoded only when the published keys change: the signing algorithms it lists
are those of every published key (after ``AUTH_SIGNING_ALG`` changes, the old algorithm's key is
still published, and still verifies, until it leaves the JWKS).
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from auth_service.keys.keyring import Keyring
from auth_service.settings import KeySettings, TokenSettings

__all__ = ["CachedDocument", "ServerMetadata", "server_metadata"]

GRANT_TYPES = ["password", "refresh_token", "client_credentials"]
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class CachedDocument(msgspec.Struct, frozen=True):
    body: bytes
    etag: str

    @classmethod
    def of(cls, document: Any) -> CachedDocument:
        body = msgspec.json.encode(document)
        return cls(body=body, etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def server_metadata(tokens: TokenSettings, algorithms: list[str]) -> dict[str, Any]:
    base = tokens.issuer
    return {
        "issuer": base,
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "introspection_endpoint": f"{base}/oauth/introspect",
        "userinfo_endpoint": f"{base}/userinfo",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "grant_types_supported": GRANT_TYPES,
        "response_types_supported": [],
        "scopes_supported": tokens.scopes_supported,
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algorithms,
        "access_token_signing_alg_values_supported": algorithms,
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "nbf",
            "jti",
            "client_id",
            "scope",
            "roles",
            "email",
        ],
        "service_documentation": f"{base}/schema",
    }


class ServerMetadata:
    __slots__ = ("_cached", "_keyring", "_signing_alg", "_tokens", "_version")

    def __init__(self, tokens: TokenSettings, keys: KeySettings, keyring: Keyring) -> None:
        self._tokens = tokens
        self._signing_alg = keys.signing_alg
        self._keyring = keyring
        self._version = ""
        self._cached = CachedDocument.of(server_metadata(tokens, [keys.signing_alg]))

    def document(self) -> CachedDocument:
        version = self._keyring.jwks.etag
        if version != self._version:
            algorithms = sorted({row.alg for row in self._keyring.rows} | {self._signing_alg})
            self._cached = CachedDocument.of(server_metadata(self._tokens, algorithms))
            self._version = version
        return self._cached
