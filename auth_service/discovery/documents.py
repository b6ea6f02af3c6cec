"""The authorization server metadata (RFC 8414), also served as the OpenID Provider document
(OpenID Connect Discovery 1.0 section 3).

Encoded once and re-encoded only when the published keys or the registered resource servers
change: the signing algorithms it lists are those of every published key (after
``AUTH_SIGNING_ALG`` changes, the old algorithm's key is still published, and still verifies,
until it leaves the JWKS), and ``scopes_supported`` is the OpenID Connect scopes plus every scope
a registered resource server owns. It claims only what is implemented: ``claims_supported`` is
exactly what an ID token or ``/userinfo`` can carry (``oidc/claims.py``), the legacy password
grant is listed only while ``AUTH_PASSWORD_GRANT_ENABLED`` allows it, and PAR only once served.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from auth_service.keys.keyring import Keyring
from auth_service.oidc.assurance import ACR_VALUES_SUPPORTED
from auth_service.oidc.claims import CLAIMS_SUPPORTED
from auth_service.oidc.scopes import IDENTITY_SCOPES, OPENID
from auth_service.resources.registry import ResourceRegistry
from auth_service.settings import KeySettings, TokenSettings

__all__ = ["CachedDocument", "ServerMetadata", "server_metadata"]

GRANT_TYPES = [
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "urn:ietf:params:oauth:grant-type:device_code",
]
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
_IDENTITY_SCOPES = [OPENID, *sorted(IDENTITY_SCOPES - {OPENID})]


class CachedDocument(msgspec.Struct, frozen=True):
    body: bytes
    etag: str

    @classmethod
    def of(cls, document: Any) -> CachedDocument:
        body = msgspec.json.encode(document)
        return cls(body=body, etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def server_metadata(
    tokens: TokenSettings,
    algorithms: list[str],
    scopes: list[str],
    *,
    password_grant: bool = False,
    pushed_authorization: bool = False,
) -> dict[str, Any]:
    """``algorithms``: the published keys'; ``scopes``: the resource servers' (sorted)."""
    base = tokens.issuer
    document: dict[str, Any] = {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "userinfo_endpoint": f"{base}/userinfo",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "end_session_endpoint": f"{base}/oauth/logout",
        "device_authorization_endpoint": f"{base}/oauth/device_authorization",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "introspection_endpoint": f"{base}/oauth/introspect",
        "scopes_supported": [*_IDENTITY_SCOPES, *scopes],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": [*GRANT_TYPES, *(["password"] if password_grant else [])],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algorithms,
        "access_token_signing_alg_values_supported": algorithms,
        "acr_values_supported": list(ACR_VALUES_SUPPORTED),
        "claims_supported": list(CLAIMS_SUPPORTED),
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": False,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": pushed_authorization,
        "ui_locales_supported": ["en", "pt-BR"],
        "prompt_values_supported": ["none", "login", "consent"],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "service_documentation": f"{base}/schema",
    }
    if pushed_authorization:
        document["pushed_authorization_request_endpoint"] = f"{base}/oauth/par"
    return document


class ServerMetadata:
    __slots__ = ("_cached", "_keyring", "_options", "_registry", "_signing_alg", "_tokens", "_version")

    def __init__(
        self,
        tokens: TokenSettings,
        keys: KeySettings,
        keyring: Keyring,
        registry: ResourceRegistry,
        *,
        password_grant: bool = False,
        pushed_authorization: bool = False,
    ) -> None:
        """``password_grant``: ``settings.oidc.password_grant_enabled``; ``pushed_authorization``:
        ``POST /oauth/par`` (RFC 9126) is served."""
        self._options = {"password_grant": password_grant, "pushed_authorization": pushed_authorization}
        self._tokens = tokens
        self._signing_alg = keys.signing_alg
        self._keyring = keyring
        self._registry = registry
        self._version: tuple[str, int] | None = None
        self._cached = CachedDocument.of(
            server_metadata(tokens, [keys.signing_alg], registry.scopes, **self._options)
        )

    def document(self) -> CachedDocument:
        version = (self._keyring.jwks.etag, self._registry.version)
        if version != self._version:
            algorithms = sorted({row.alg for row in self._keyring.rows} | {self._signing_alg})
            document = server_metadata(self._tokens, algorithms, self._registry.scopes, **self._options)
            self._cached = CachedDocument.of(document)
            self._version = version
        return self._cached
