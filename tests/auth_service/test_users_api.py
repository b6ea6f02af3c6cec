"""Self-service (``/api/1/users/me``, password change) and self-registration (off by default)."""

from __future__ import annotations

from tests.auth_service.conftest import AGENT_EMAIL, AGENT_PASSWORD, AuthClient, SettingsFactory, serving
from tests.auth_service.test_token_grants import claims_of

NEW_PASSWORD = "an entirely different passphrase"


def test_me(seeded: AuthClient) -> None:
    session = seeded.admin_login(AGENT_EMAIL, AGENT_PASSWORD)
    me = seeded.http.get("/api/1/users/me", headers=seeded.bearer(session["access_token"]))
    assert me.status_code == 200
    assert me.json()["email"] == AGENT_EMAIL
    assert me.json()["roles"] == ["agent"]
    assert seeded.http.get("/api/1/users/me").status_code == 401


def test_password_change_ends_the_other_sessions_only(seeded: AuthClient) -> None:
    this = seeded.admin_login(AGENT_EMAIL, AGENT_PASSWORD)
    other = seeded.admin_login(AGENT_EMAIL, AGENT_PASSWORD)
    wrong = seeded.http.post(
        "/api/1/users/me/password",
        json={"current_password": "not my password", "new_password": NEW_PASSWORD},
        headers=seeded.bearer(this["access_token"]),
    )
    assert wrong.status_code == 403
    changed = seeded.http.post(
        "/api/1/users/me/password",
        json={"current_password": AGENT_PASSWORD, "new_password": NEW_PASSWORD},
        headers=seeded.bearer(this["access_token"]),
    )
    assert changed.status_code == 204, changed.text

    def refresh(token: str) -> int:
        form = {"grant_type": "refresh_token", "client_id": "first-party", "refresh_token": token}
        return seeded.token(form).status_code

    assert refresh(other["refresh_token"]) == 400
    assert seeded.http.get("/api/1/users/me", headers=seeded.bearer(other["access_token"])).status_code == 401
    assert refresh(this["refresh_token"]) == 200
    assert (
        seeded.token(
            {
                "grant_type": "password",
                "client_id": "first-party",
                "username": AGENT_EMAIL,
                "password": AGENT_PASSWORD,
            }
        ).status_code
        == 400
    )
    seeded.login(AGENT_EMAIL, NEW_PASSWORD)


def test_weak_new_password_is_refused(seeded: AuthClient) -> None:
    session = seeded.admin_login(AGENT_EMAIL, AGENT_PASSWORD)
    response = seeded.http.post(
        "/api/1/users/me/password",
        json={"current_password": AGENT_PASSWORD, "new_password": "password1234"},
        headers=seeded.bearer(session["access_token"]),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "new_password"


def test_client_tokens_have_no_me(auth: AuthClient) -> None:
    client = auth.create_client(
        scope="customers:read",
        resources=["auth", "customers"],
        token_endpoint_auth_method="client_secret_post",
    )
    form = {
        "grant_type": "client_credentials",
        "client_id": client.client_id,
        "client_secret": client.client_secret or "",
        "resource": "auth",
    }
    token = auth.token(form).json()["access_token"]
    assert auth.http.get("/api/1/users/me", headers=auth.bearer(token)).status_code == 403
    info = auth.http.get("/userinfo", headers=auth.bearer(token))
    assert info.status_code == 403  # no person behind it, so no openid scope: nothing to tell
    assert 'error="insufficient_scope"' in info.headers["www-authenticate"]


def test_registration_is_off_by_default(auth: AuthClient) -> None:
    response = auth.http.post("/api/1/users/", json={"email": "me@example.com", "password": NEW_PASSWORD})
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_registration_when_enabled_gives_only_viewer(make_settings: SettingsFactory) -> None:
    with serving(make_settings(registration_enabled=True)) as auth:
        client = auth.http
        created = client.post("/api/1/users/", json={"email": "me@example.com", "password": NEW_PASSWORD})
        assert created.status_code == 201, created.text
        assert created.json()["roles"] == ["viewer"]
        smuggled = client.post(
            "/api/1/users/", json={"email": "x@example.com", "password": NEW_PASSWORD, "roles": ["admin"]}
        )
        assert smuggled.status_code == 400
        assert (
            client.post(
                "/api/1/users/", json={"email": "ME@example.com", "password": NEW_PASSWORD}
            ).status_code
            == 409
        )
        token = auth.login("me@example.com", NEW_PASSWORD)["access_token"]
        assert claims_of(token)["scope"] == "customers:read"
