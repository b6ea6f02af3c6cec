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
    assert metadata["authorization_endpoint"] == f"{base}/oauth/authorize"
    assert metadata["end_session_endpoint"] == f"{base}/oauth/logout"
    assert metadata["device_authorization_endpoint"] == f"{base}/oauth/device_authorization"
    assert metadata["grant_types_supported"] == [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
        "password",  # legacy: listed while AUTH_PASSWORD_GRANT_ENABLED allows it
    ]
    assert "client_secret_basic" in metadata["token_endpoint_auth_methods_supported"]
    assert "client_secret_post" in metadata["token_endpoint_auth_methods_supported"]
    assert "none" in metadata["token_endpoint_auth_methods_supported"]  # public clients, with PKCE
    assert metadata["scopes_supported"] == [  # OpenID Connect's, then every resource server's
        "openid",
        "email",
        "profile",
        *AUTH_API_SCOPES,
        *CUSTOMER_API_SCOPES,
    ]
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["response_modes_supported"] == ["query", "form_post"]
    assert metadata["subject_types_supported"] == ["public"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]  # never plain
    assert metadata["access_token_signing_alg_values_supported"] == ["RS256"]
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]
    assert metadata["acr_values_supported"] == ["1", "2"]  # a password; with a second factor
    assert metadata["claims_supported"] == [
        *("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp", "sid", "amr", "acr", "at_hash"),
        *("email", "email_verified", "name", "given_name", "family_name", "locale", "updated_at"),
    ]
    flags = {
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
        "request_parameter_supported": False,
        "claims_parameter_supported": False,
    }
    assert {name: metadata[name] for name in flags} == flags
    assert metadata["ui_locales_supported"] == ["en", "pt-BR"]
    assert metadata["prompt_values_supported"] == ["none", "login", "consent"]
    # PAR (RFC 9126) is served: its endpoint, and request_uri (its only use) at the authorization endpoint
    assert metadata["pushed_authorization_request_endpoint"] == f"{base}/oauth/par"
    assert metadata["request_uri_parameter_supported"] is True
    etag = response.headers["etag"]
    assert (
        auth.http.get("/.well-known/openid-configuration", headers={"If-None-Match": etag}).status_code == 304
    )


def test_the_password_grant_is_listed_only_while_enabled(make_settings: SettingsFactory) -> None:
    with serving(make_settings(password_grant_enabled=False)) as auth:
        grants = auth.http.get("/.well-known/openid-configuration").json()["grant_types_supported"]
    assert "password" not in grants
    assert "authorization_code" in grants


def test_a_generic_openid_client_finds_every_member_discovery_requires(auth: AuthClient) -> None:
    """OpenID Connect Discovery 1.0 section 3 (REQUIRED members) and RFC 8414 section 2."""
    metadata = auth.http.get("/.well-known/openid-configuration").json()
    required = [
        "issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
        "subject_types_supported", "id_token_signing_alg_values_supported",
    ]  # fmt: skip
    assert [name for name in required if not metadata.get(name)] == []
    assert "openid" in metadata["scopes_supported"]
    for name, value in metadata.items():  # every endpoint is one of ours, on the issuer
        if name.endswith(("_endpoint", "_uri")):
            assert value.startswith(metadata["issuer"] + "/"), name


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
        metadata = client.get("/.well-known/openid-configuration").json()
        assert metadata["id_token_signing_alg_values_supported"] == ["ES256", "RS256"]
        algs = sorted(k["alg"] for k in client.get("/.well-known/jwks.json").json()["keys"])
        assert algs == ["ES256", "RS256"]  # the retired RS256 key stays until its tokens expire
