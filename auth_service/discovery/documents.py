"""The authorization server metadata (RFC 8414), also served as OpenID Connect discovery.

Built once per app from the settings: it only changes when the configuration does.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from auth_service.settings import AuthSettings

__all__ = ["CachedDocument", "server_metadata"]

GRANT_TYPES = ["password", "refresh_token", "client_credentials"]
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class CachedDocument(msgspec.Struct, frozen=True):
    body: bytes
    etag: str

    @classmethod
    def of(cls, document: Any) -> CachedDocument:
        body = msgspec.json.encode(document)
        return cls(body=body, etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def server_metadata(settings: AuthSettings) -> dict[str, Any]:
    base = settings.issuer
    return {
        "issuer": base,
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "introspection_endpoint": f"{base}/oauth/introspect",
        "userinfo_endpoint": f"{base}/userinfo",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "grant_types_supported": GRANT_TYPES,
        "response_types_supported": [],
        "scopes_supported": settings.scopes_supported,
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [settings.signing_alg],
        "access_token_signing_alg_values_supported": [settings.signing_alg],
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
