"""``POST /oauth/token``: every grant, and every RFC 6749 section 5.2 error, as a client sees them."""

from __future__ import annotations

import base64
from typing import Any

import jwt
import pytest

from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    AuthClient,
    basic,
)


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def assert_oauth_error(response: Any, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["error"] == error
    assert isinstance(body["error_description"], str)
    assert body["error_description"]
    assert set(body) == {"error", "error_description"}


def password_form(email: str = AGENT_EMAIL, password: str = AGENT_PASSWORD, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "password",
        "client_id": "first-party",
        "username": email,
        "password": password,
        **extra,
    }


# ---------------------------------------------------------------- successful grants
def test_password_grant_issues_rfc9068_access_token_and_refresh_token(seeded: AuthClient) -> None:
    response = seeded.token(password_form())
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert body["scope"] == "customers:read customers:write"
    assert len(body["refresh_token"]) >= 43  # 256 bits, base64url
    header = jwt.get_unverified_header(body["access_token"])
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    assert header["kid"]
    claims = claims_of(body["access_token"])
    assert claims["iss"] == "http://auth.test"
    assert claims["aud"] == "customers"
    assert claims["client_id"] == "first-party"
    assert claims["roles"] == ["agent"]
    assert claims["email"] == AGENT_EMAIL
    assert claims["exp"] - claims["iat"] == 600
    assert claims["nbf"] == claims["iat"]
    assert claims["jti"]
    own = seeded.admin_login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"]  # the auth API's audience
    user = seeded.http.get("/api/1/users/me", headers=seeded.bearer(own)).json()
    assert claims["sub"] == user["id"]
    assert user["last_login_at"] is not None


def test_password_grant_scope_narrows(seeded: AuthClient) -> None:
    body = seeded.login(AGENT_EMAIL, AGENT_PASSWORD, scope="customers:read")
    assert body["scope"] == "customers:read"
    assert claims_of(body["access_token"])["scope"] == "customers:read"


def test_email_is_case_and_unicode_insensitive(seeded: AuthClient) -> None:
    fullwidth_at = AGENT_EMAIL.upper().replace("@", "\uff20")  # FULLWIDTH COMMERCIAL AT folds under NFKC
    assert seeded.token(password_form(email=fullwidth_at)).status_code == 200


def test_client_credentials_with_basic_and_with_post(auth: AuthClient) -> None:
    """Each client with the method it registered (the other one: test_clients_registration.py)."""
    client = auth.create_client(scope="customers:read customers:write")
    secret = client.client_secret or ""
    by_basic = auth.token({"grant_type": "client_credentials"}, headers=basic(client.client_id, secret))
    poster = auth.create_client(
        scope="customers:read customers:write", token_endpoint_auth_method="client_secret_post"
    )
    by_post = auth.token(
        {
            "grant_type": "client_credentials",
            "client_id": poster.client_id,
            "client_secret": poster.client_secret or "",
        }
    )
    for response, client_id in ((by_basic, client.client_id), (by_post, poster.client_id)):
        assert response.status_code == 200, response.text
        body = response.json()
        assert "refresh_token" not in body
        assert body["scope"] == "customers:read customers:write"
        claims = claims_of(body["access_token"])
        assert claims["sub"] == claims["client_id"] == client_id
        assert "roles" not in claims  # empty claims are omitted (RFC 9068 validators refuse [])


def test_basic_credentials_are_form_urlencoded(auth: AuthClient) -> None:
    """RFC 6749 section 2.3.1: id and secret are form-urlencoded before base64."""
    client = auth.create_client(client_id="svc:reporting".replace(":", "."), scope="customers:read")
    raw = f"{client.client_id}:{client.client_secret}"
    encoded = raw.replace("-", "%2D").replace("_", "%5F")
    header = {"Authorization": "Basic " + base64.b64encode(encoded.encode()).decode()}
    assert auth.token({"grant_type": "client_credentials"}, headers=header).status_code == 200


def test_client_credentials_scope_narrows_and_refuses_more(auth: AuthClient) -> None:
    client = auth.create_client(scope="customers:read")
    headers = basic(client.client_id, client.client_secret or "")
    assert (
        auth.token({"grant_type": "client_credentials", "scope": "customers:read"}, headers=headers).json()[
            "scope"
        ]
        == "customers:read"
    )
    refused = auth.token({"grant_type": "client_credentials", "scope": "customers:delete"}, headers=headers)
    assert_oauth_error(refused, 400, "invalid_scope")


# ---------------------------------------------------------------- RFC 6749 errors
def test_missing_grant_type_is_invalid_request(seeded: AuthClient) -> None:
    assert_oauth_error(seeded.token({"client_id": "first-party"}), 400, "invalid_request")


def test_repeated_parameter_is_invalid_request(seeded: AuthClient) -> None:
    body = "grant_type=password&client_id=first-party&username=a%40b.c&password=x&password=y"
    response = seeded.http.post(
        "/oauth/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_json_body_is_invalid_request_not_problem_json(seeded: AuthClient) -> None:
    response = seeded.http.post("/oauth/token", json=password_form())
    assert_oauth_error(response, 400, "invalid_request")


def test_missing_password_is_invalid_request(seeded: AuthClient) -> None:
    form = password_form()
    del form["password"]
    assert_oauth_error(seeded.token(form), 400, "invalid_request")


def test_missing_refresh_token_is_invalid_request(seeded: AuthClient) -> None:
    form = {"grant_type": "refresh_token", "client_id": "first-party"}
    assert_oauth_error(seeded.token(form), 400, "invalid_request")


def test_unknown_grant_type_is_unsupported_grant_type(seeded: AuthClient) -> None:
    form = {"grant_type": "implicit", "client_id": "first-party", "code": "x"}
    assert_oauth_error(seeded.token(form), 400, "unsupported_grant_type")


@pytest.mark.parametrize(
    "credentials",
    [
        {"client_id": "no-such-client"},
        {},
    ],
)
def test_unknown_or_missing_client_is_invalid_client_401_with_challenge(
    seeded: AuthClient, credentials: dict[str, str]
) -> None:
    form = {"grant_type": "client_credentials", **credentials}
    response = seeded.token(form)
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic realm=")


def test_wrong_client_secret_is_invalid_client(auth: AuthClient) -> None:
    client = auth.create_client(scope="customers:read")
    response = auth.token({"grant_type": "client_credentials"}, headers=basic(client.client_id, "wrong" * 9))
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic ")


def test_confidential_client_without_secret_is_invalid_client(auth: AuthClient) -> None:
    client = auth.create_client(scope="customers:read")
    response = auth.token({"grant_type": "client_credentials", "client_id": client.client_id})
    assert_oauth_error(response, 401, "invalid_client")


def test_two_client_auth_methods_is_invalid_request(auth: AuthClient) -> None:
    client = auth.create_client(scope="customers:read")
    secret = client.client_secret or ""
    response = auth.token(
        {"grant_type": "client_credentials", "client_secret": secret}, headers=basic(client.client_id, secret)
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_grant_not_allowed_for_client_is_unauthorized_client(seeded: AuthClient) -> None:
    """The public first-party client may not use client_credentials; a service client not password."""
    assert_oauth_error(
        seeded.token({"grant_type": "client_credentials", "client_id": "first-party"}),
        400,
        "unauthorized_client",
    )
    service = seeded.create_client(scope="customers:read", token_endpoint_auth_method="client_secret_post")
    form = {**password_form(), "client_id": service.client_id, "client_secret": service.client_secret or ""}
    assert_oauth_error(seeded.token(form), 400, "unauthorized_client")


def test_wrong_password_is_invalid_grant(seeded: AuthClient) -> None:
    response = seeded.token(password_form(password="not the password at all"))
    assert_oauth_error(response, 400, "invalid_grant")


def test_scope_beyond_the_users_roles_is_invalid_scope(seeded: AuthClient) -> None:
    response = seeded.token(password_form(scope="customers:read users:manage"))
    assert_oauth_error(response, 400, "invalid_scope")


def test_malformed_scope_is_invalid_scope(seeded: AuthClient) -> None:
    response = seeded.token(password_form(scope='customers:read  "quoted"'))
    assert_oauth_error(response, 400, "invalid_scope")


def test_invalid_refresh_token_is_invalid_grant(seeded: AuthClient) -> None:
    form = {"grant_type": "refresh_token", "client_id": "first-party", "refresh_token": "x" * 43}
    assert_oauth_error(seeded.token(form), 400, "invalid_grant")


def test_disabled_user_cannot_log_in(seeded: AuthClient) -> None:
    admin = seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)
    agent_id = claims_of(seeded.login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"])["sub"]
    disabled = seeded.http.post(
        f"/api/1/admin/users/{agent_id}/disable", headers=seeded.bearer(admin["access_token"])
    )
    assert disabled.status_code == 201, disabled.text
    assert disabled.json()["status"] == "disabled"
    assert_oauth_error(seeded.token(password_form()), 400, "invalid_grant")
