"""authlib's OAuth client (httpx integration) logs in with our provider as any app would.

Configured from discovery only: the authorization code flow with PKCE S256 (the hosted login and
consent pages driven with httpx, as a person fills them), the ID token checked by authlib's own
OpenID code (``parse_id_token``: signature against the JWKS with joserfc, ``iss``, ``aud``,
``nonce``, ``at_hash``), ``/userinfo``, refresh, revocation (RFC 7009) and RP-initiated logout
(``create_logout_url``). Once with RS256 keys and once with EdDSA (whose ``at_hash`` is SHA-512).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError  # type: ignore[import-untyped]
from authlib.integrations.base_client.sync_openid import OpenIDMixin  # type: ignore[import-untyped]
from authlib.integrations.httpx_client import OAuth2Client  # type: ignore[import-untyped]
from joserfc.errors import InvalidClaimError

from tests.browser.form_driver import Person
from tests.browser.provider import Provider, running_provider

pytestmark = pytest.mark.e2e

PASSWORD = "authlib logs this person in 42"
REDIRECT_URI = "http://127.0.0.1:59998/callback"  # never served: the code is read off the redirect
LOGGED_OUT = "http://127.0.0.1:59998/logged-out"
SCOPE = "openid profile email customers:read"


@pytest.fixture(scope="module", params=["RS256", "EdDSA"])
def provider(
    request: pytest.FixtureRequest,
    pg_server_url: str,
    auth_template: str,
    redis_url: str,
    redis_namespace: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Provider]:
    folder = tmp_path_factory.mktemp(f"authlib-{request.param}")
    extra = {"AUTH_SIGNING_ALG": request.param}
    with running_provider(pg_server_url, auth_template, redis_url, redis_namespace, folder, extra) as running:
        yield running


class OpenIdApp(OpenIDMixin):  # type: ignore[misc]
    """authlib's OpenID checks (the ones its framework clients run) on discovered metadata."""

    def __init__(self, client_id: str, metadata: dict[str, Any]) -> None:
        self.client_id, self.server_metadata = client_id, dict(metadata)

    def load_server_metadata(self) -> dict[str, Any]:
        return self.server_metadata

    def _get_session(self) -> OAuth2Client:
        return OAuth2Client(timeout=10)


class Login:
    """One completed login: authlib's client holding the tokens, and the person's browser."""

    def __init__(self, provider: Provider, *, first_party: bool = False) -> None:
        self.metadata = provider.metadata()
        registered = provider.register_client(
            "authlib app",
            REDIRECT_URI,
            post_logout_redirect_uris=[LOGGED_OUT],
            first_party=first_party,
        )
        self.user = provider.create_person(PASSWORD, name="Bia Lima", given_name="Bia", email_verified=True)
        self.person = Person(self.user["email"], PASSWORD)
        self.client = OAuth2Client(
            registered["client_id"],
            registered["client_secret"],
            scope=SCOPE,
            redirect_uri=REDIRECT_URI,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
            timeout=30,
        )
        self.app = OpenIdApp(registered["client_id"], self.metadata)
        self.nonce = secrets.token_urlsafe(16)
        verifier = secrets.token_urlsafe(48)
        url, state = self.client.create_authorization_url(
            self.metadata["authorization_endpoint"], code_verifier=verifier, nonce=self.nonce
        )
        self.back = self.person.authorize(url, REDIRECT_URI)
        assert self.back["iss"] == provider.issuer, "RFC 9207: iss in the authorization response"
        self.token: dict[str, Any] = self.client.fetch_token(
            self.metadata["token_endpoint"],
            authorization_response=f"{REDIRECT_URI}?{urlencode(self.back)}",
            state=state,
            code_verifier=verifier,
        )

    def close(self) -> None:
        self.client.close()
        self.person.close()


@pytest.fixture
def login(provider: Provider) -> Iterator[Login]:
    done = Login(provider)
    try:
        yield done
    finally:
        done.close()


def test_code_flow_with_pkce_gives_an_id_token_authlib_verifies(provider: Provider, login: Login) -> None:
    assert login.person.pages[:2] == ["/oauth/authorize", "/consent"], "the login form, then the consent"
    assert login.token["token_type"].lower() == "bearer"
    assert set(login.token["scope"].split()) == set(SCOPE.split())
    claims = login.app.parse_id_token(login.token, nonce=login.nonce)
    assert claims["iss"] == provider.issuer
    assert claims["aud"] == claims["azp"] == login.client.client_id
    assert claims["sub"] == login.user["id"]
    assert claims["email"] == login.user["email"]
    assert claims["email_verified"] is True
    assert (claims["name"], claims["given_name"]) == ("Bia Lima", "Bia")
    assert claims["amr"] == ["pwd"]
    assert claims["acr"] == "1"
    assert {"at_hash", "sid", "auth_time", "exp", "iat"} <= set(claims)


def test_authlib_refuses_the_id_token_for_another_nonce_or_access_token(login: Login) -> None:
    """The checks above mean something: the same ID token fails them when it should."""
    with pytest.raises(InvalidClaimError, match="nonce"):
        login.app.parse_id_token(login.token, nonce="another-nonce")
    swapped = {**login.token, "access_token": login.token["access_token"] + "x"}
    with pytest.raises(InvalidClaimError, match="at_hash"):
        login.app.parse_id_token(swapped, nonce=login.nonce)


def test_userinfo_answers_the_granted_claims(login: Login) -> None:
    answer = login.client.get(login.metadata["userinfo_endpoint"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["sub"] == login.user["id"]
    assert (body["email"], body["email_verified"], body["name"]) == (login.user["email"], True, "Bia Lima")
    assert "family_name" not in body, "absent claims are omitted (OIDC Core 5.3.2)"
    anonymous = httpx.get(login.metadata["userinfo_endpoint"], timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].lower().startswith("bearer")


def test_refresh_keeps_openid_and_revocation_ends_it(login: Login) -> None:
    first_refresh = login.token["refresh_token"]
    refreshed = login.client.refresh_token(login.metadata["token_endpoint"], refresh_token=first_refresh)
    assert "openid" in refreshed["scope"].split()
    assert refreshed["refresh_token"] != first_refresh, "rotation"
    assert login.client.get(login.metadata["userinfo_endpoint"]).status_code == 200
    revoked = login.client.revoke_token(
        login.metadata["revocation_endpoint"],
        token=refreshed["refresh_token"],
        token_type_hint="refresh_token",
    )
    assert revoked.status_code == 200
    with pytest.raises(OAuthError) as refused:
        login.client.refresh_token(login.metadata["token_endpoint"], refresh_token=refreshed["refresh_token"])
    assert refused.value.error == "invalid_grant"


def test_logout_through_the_end_session_url_ends_the_sso_session(login: Login) -> None:
    logout = login.app.create_logout_url(
        post_logout_redirect_uri=LOGGED_OUT, id_token_hint=login.token["id_token"]
    )
    answer = login.person.http.get(logout["url"])
    assert answer.status_code in (302, 303), answer.text
    back = urlsplit(answer.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == LOGGED_OUT
    assert back.query == urlencode({"state": logout["state"]})
    endpoint, refresh_token = login.metadata["token_endpoint"], login.token["refresh_token"]
    with pytest.raises(OAuthError) as refused:
        login.client.refresh_token(endpoint, refresh_token=refresh_token)
    assert refused.value.error == "invalid_grant", "the session's refresh-token family is revoked"
    again, _ = login.client.create_authorization_url(
        login.metadata["authorization_endpoint"], code_verifier=secrets.token_urlsafe(48), nonce="n"
    )
    answered = login.person.http.get(again)
    assert answered.status_code == 200, "the cookie opens nothing now: the login form"
    assert 'name="password"' in answered.text


def test_a_logout_to_an_unregistered_uri_is_an_error_page(login: Login) -> None:
    logout = login.app.create_logout_url(
        post_logout_redirect_uri="http://127.0.0.1:59998/elsewhere", id_token_hint=login.token["id_token"]
    )
    answer = login.person.http.get(logout["url"])
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert answer.headers["content-type"].startswith("text/html")
