"""The authorization server metadata (RFC 8414), also served as OpenID Connect discovery.

Encoded once and re-encoded only when the published keys or the registered resource servers
change: the signing algorithms it lists are those of every published key (after
``AUTH_SIGNING_ALG`` changes, the old algorithm's key is still published, and still verifies,
until it leaves the JWKS), and ``scopes_supported`` is every scope a registered resource server
owns. It claims only what is implemented: no ID token exists yet, so no ID token algorithms.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from auth_service.keys.keyring import Keyring
from auth_service.resources.registry import ResourceRegistry
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


def server_metadata(tokens: TokenSettings, algorithms: list[str], scopes: list[str]) -> dict[str, Any]:
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
        "scopes_supported": scopes,
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "subject_types_supported": ["public"],
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
    __slots__ = ("_cached", "_keyring", "_registry", "_signing_alg", "_tokens", "_version")

    def __init__(
        self, tokens: TokenSettings, keys: KeySettings, keyring: Keyring, registry: ResourceRegistry
    ) -> None:
        self._tokens = tokens
        self._signing_alg = keys.signing_alg
        self._keyring = keyring
        self._registry = registry
        self._version: tuple[str, int] | None = None
        self._cached = CachedDocument.of(server_metadata(tokens, [keys.signing_alg], registry.scopes))

    def document(self) -> CachedDocument:
        version = (self._keyring.jwks.etag, self._registry.version)
        if version != self._version:
            algorithms = sorted({row.alg for row in self._keyring.rows} | {self._signing_alg})
            self._cached = CachedDocument.of(server_metadata(self._tokens, algorithms, self._registry.scopes))
            self._version = version
        return self._cached
