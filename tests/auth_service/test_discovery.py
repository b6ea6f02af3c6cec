"""Discovery metadata (RFC 8414 / OpenID Connect Discovery): what a standard client reads first."""

from __future__ import annotations

from litestar.testing import TestClient

from auth_service.app import create_app
from tests.auth_service.conftest import (
    AUTH_API_SCOPES,
    CUSTOMER_API_SCOPES,
    SYSTEM,
    AuthClient,
    SettingsFactory,
    serving,
)


def test_metadata_names_every_endpoint_and_capability(auth: AuthClient) -> None:
    response = auth.http.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    metadata = response.json()
    assert metadata == auth.http.get("/.well-known/openid-configuration").json()
    base = "http://auth.test"
    assert metadata["issuer"] == base
    assert metadata["token_endpoint"] == f"{base}/oauth/token"
    assert metadata["revocation_endpoint"] == f"{base}/oauth/revoke"
    assert metadata["introspection_endpoint"] == f"{base}/oauth/introspect"
    assert metadata["userinfo_endpoint"] == f"{base}/userinfo"
    assert metadata["jwks_uri"] == f"{base}/.well-known/jwks.json"
    assert metadata["grant_types_supported"] == ["password", "refresh_token", "client_credentials"]
    assert "client_secret_basic" in metadata["token_endpoint_auth_methods_supported"]
    assert "client_secret_post" in metadata["token_endpoint_auth_methods_supported"]
    assert metadata["scopes_supported"] == [  # every scope a registered resource server owns
        *AUTH_API_SCOPES,
        *CUSTOMER_API_SCOPES,
    ]
    assert metadata["access_token_signing_alg_values_supported"] == ["RS256"]
    assert "id_token_signing_alg_values_supported" not in metadata  # no ID token is issued (yet)
    etag = response.headers["etag"]
    assert (
        auth.http.get("/.well-known/openid-configuration", headers={"If-None-Match": etag}).status_code == 304
    )


def test_changing_the_algorithm_lists_both_while_the_old_key_is_published(
    make_settings: SettingsFactory,
) -> None:
    with TestClient(create_app(make_settings())):
        pass  # an RS256 key becomes active
    with serving(make_settings(signing_alg="ES256", jwks_max_age=0, key_prepublish_seconds=0)) as auth:
        client = auth.http
        assert client.get("/.well-known/openid-configuration").json()[
            "access_token_signing_alg_values_supported"
        ] == [
            "ES256",
            "RS256",
        ]
        auth.call(auth.services.signing_keys.rotate, SYSTEM)  # the next key is ES256...
        auth.call(auth.services.signing_keys.sync)  # ...and signs at once (no pre-publication here)
        algs = sorted(k["alg"] for k in client.get("/.well-known/jwks.json").json()["keys"])
        assert algs == ["ES256", "RS256"]  # the retired RS256 key stays until its tokens expire
