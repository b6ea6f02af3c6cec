"""``/api/1/admin``: 401 without a token, 403 without the scope; users, roles, clients, sessions, audit."""

from __future__ import annotations

from typing import Any

import pytest

from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    AUTH_API_SCOPES,
    CUSTOMER_API_SCOPES,
    AuthClient,
    basic,
)
from tests.auth_service.test_token_grants import claims_of

PROBLEM = "application/problem+json"


@pytest.fixture
def admin(seeded: AuthClient) -> dict[str, str]:
    return seeded.bearer(seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/api/1/admin/users/", "admin:users"),
        ("POST", "/api/1/admin/roles/", "admin:roles"),
        ("GET", "/api/1/admin/clients/", "admin:clients"),
        ("POST", "/api/1/admin/keys/rotate", "admin:keys"),
        ("GET", "/api/1/admin/audit-events/", "admin:audit"),
    ],
)
def test_admin_needs_a_token_then_the_scope(seeded: AuthClient, method: str, path: str, scope: str) -> None:
    missing = seeded.http.request(method, path)
    problem(missing, 401)
    assert missing.headers["www-authenticate"] == 'Bearer realm="auth"'
    invalid = seeded.http.request(method, path, headers={"Authorization": "Bearer not.a.token"})
    problem(invalid, 401)
    assert 'error="invalid_token"' in invalid.headers["www-authenticate"]
    agent = seeded.bearer(seeded.admin_login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"])
    forbidden = seeded.http.request(method, path, headers=agent)
    problem(forbidden, 403)
    assert 'error="insufficient_scope"' in forbidden.headers["www-authenticate"]
    assert f'scope="{scope}"' in forbidden.headers["www-authenticate"]


def test_admin_scope_narrowed_away_is_403(seeded: AuthClient) -> None:
    narrowed = seeded.bearer(
        seeded.login(ADMIN_EMAIL, ADMIN_PASSWORD, resource="auth", scope="admin:audit")["access_token"]
    )
    problem(seeded.http.get("/api/1/admin/users/", headers=narrowed), 403)
    assert seeded.http.get("/api/1/admin/audit-events/", headers=narrowed).status_code == 200


def test_user_lifecycle(seeded: AuthClient, admin: dict[str, str]) -> None:
    created = seeded.http.post(
        "/api/1/admin/users/",
        json={
            "email": "New.Person@Example.com",
            "password": "a long and unusual passphrase",
            "roles": ["agent"],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["email"] == "New.Person@example.com"
    assert user["roles"] == ["agent"]
    assert user["status"] == "active"
    assert "password_hash" not in user
    duplicate = seeded.http.post(
        "/api/1/admin/users/",
        json={"email": "new.person@EXAMPLE.com", "password": "another long passphrase ok"},
        headers=admin,
    )
    assert problem(duplicate, 409)["type"].endswith("/email-taken")
    unknown_role = seeded.http.post(
        "/api/1/admin/users/",
        json={"email": "x@example.com", "password": "another long passphrase ok", "roles": ["wizard"]},
        headers=admin,
    )
    problem(unknown_role, 422)
    bad_email = seeded.http.post(
        "/api/1/admin/users/",
        json={"email": "not-an-email", "password": "another long passphrase ok"},
        headers=admin,
    )
    assert problem(bad_email, 422)["errors"][0]["field"] == "email"

    path = f"/api/1/admin/users/{user['id']}"
    assert seeded.http.get(path, headers=admin).json()["email"] == "New.Person@example.com"
    updated = seeded.http.patch(path, json={"roles": ["viewer", "agent"]}, headers=admin)
    assert updated.json()["roles"] == ["agent", "viewer"]
    reset = seeded.http.post(f"{path}/password", json={"password": "brand new secret phrase"}, headers=admin)
    assert reset.status_code == 204
    seeded.login("new.person@example.com", "brand new secret phrase")
    assert seeded.http.delete(path, headers=admin).status_code == 204
    problem(seeded.http.get(path, headers=admin), 404)
    problem(seeded.http.get("/api/1/admin/users/00000000-0000-0000-0000-000000000000", headers=admin), 404)


def test_users_list_pages(seeded: AuthClient, admin: dict[str, str]) -> None:
    for i in range(3):
        seeded.create_user(f"user{i}@example.com", "a long and unusual passphrase", [])
    first = seeded.http.get("/api/1/admin/users/", params={"limit": 2}, headers=admin).json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    emails = [u["email"] for u in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = seeded.http.get(
            "/api/1/admin/users/", params={"limit": 2, "cursor": cursor}, headers=admin
        ).json()
        emails += [u["email"] for u in page["items"]]
        cursor = page["next_cursor"]
    assert emails == sorted(emails)
    assert len(emails) == 5
    problem(seeded.http.get("/api/1/admin/users/", params={"limit": 1000}, headers=admin), 400)


def test_the_last_admin_cannot_lock_everyone_out(seeded: AuthClient, admin: dict[str, str]) -> None:
    me = seeded.http.get("/api/1/users/me", headers=admin).json()
    assert problem(seeded.http.post(f"/api/1/admin/users/{me['id']}/disable", headers=admin), 409)[
        "type"
    ].endswith("/last-admin")
    problem(seeded.http.delete(f"/api/1/admin/users/{me['id']}/roles/admin", headers=admin), 409)
    problem(seeded.http.delete(f"/api/1/admin/users/{me['id']}", headers=admin), 409)


def test_roles_crud_and_assignment(seeded: AuthClient, admin: dict[str, str]) -> None:
    created = seeded.http.post(
        "/api/1/admin/roles/", json={"name": "auditor", "scopes": ["customers:read"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    problem(
        seeded.http.post("/api/1/admin/roles/", json={"name": "auditor", "scopes": []}, headers=admin), 409
    )
    problem(
        seeded.http.post(
            "/api/1/admin/roles/", json={"name": "x", "scopes": ["launch:missiles"]}, headers=admin
        ),
        422,
    )
    renamed = seeded.http.patch("/api/1/admin/roles/auditor", json={"name": "reviewer"}, headers=admin)
    assert renamed.json()["name"] == "reviewer"
    agent_id = claims_of(seeded.login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"])["sub"]
    assigned = seeded.http.put(f"/api/1/admin/users/{agent_id}/roles/reviewer", headers=admin)
    assert assigned.status_code == 204
    assert claims_of(seeded.login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"])["roles"] == [
        "agent",
        "reviewer",
    ]
    problem(seeded.http.delete("/api/1/admin/roles/reviewer", headers=admin), 409)  # still held
    assert (
        seeded.http.delete(f"/api/1/admin/users/{agent_id}/roles/reviewer", headers=admin).status_code == 204
    )
    assert seeded.http.delete("/api/1/admin/roles/reviewer", headers=admin).status_code == 204
    names = [r["name"] for r in seeded.http.get("/api/1/admin/roles/", headers=admin).json()]
    assert names == ["admin", "agent", "viewer"]
    assert seeded.http.get("/api/1/admin/roles/admin", headers=admin).json()["scopes"] == [
        *AUTH_API_SCOPES,
        *CUSTOMER_API_SCOPES,
    ]


def test_clients_use_rfc7591_names_and_show_the_secret_once(
    seeded: AuthClient, admin: dict[str, str]
) -> None:
    created = seeded.http.post(
        "/api/1/admin/clients/",
        json={"client_name": "billing", "grant_types": ["client_credentials"], "scope": "customers:read"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    client = created.json()
    assert client["client_secret_expires_at"] == 0
    assert len(client["client_secret"]) >= 43
    assert client["token_endpoint_auth_method"] == "client_secret_basic"
    path = f"/api/1/admin/clients/{client['client_id']}"
    shown = seeded.http.get(path, headers=admin).json()
    assert "client_secret" not in shown
    assert shown["scope"] == "customers:read"
    token = seeded.token(
        {"grant_type": "client_credentials"}, headers=basic(client["client_id"], client["client_secret"])
    )
    assert token.status_code == 200
    rotated = seeded.http.post(f"{path}/secret", headers=admin).json()["client_secret"]
    assert (
        seeded.token(
            {"grant_type": "client_credentials"}, headers=basic(client["client_id"], client["client_secret"])
        ).status_code
        == 401
    )
    assert (
        seeded.token(
            {"grant_type": "client_credentials"}, headers=basic(client["client_id"], rotated)
        ).status_code
        == 200
    )
    problem(
        seeded.http.post(
            "/api/1/admin/clients/",
            json={
                "client_name": "p",
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "none",
            },
            headers=admin,
        ),
        422,
    )
    assert (
        seeded.http.patch(path, json={"scope": "customers:read customers:write"}, headers=admin).json()[
            "scope"
        ]
        == "customers:read customers:write"
    )
    assert seeded.http.delete(path, headers=admin).status_code == 204
    problem(seeded.http.get(path, headers=admin), 404)


def test_sessions_list_and_revoke(seeded: AuthClient, admin: dict[str, str]) -> None:
    session = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    claims = claims_of(session["access_token"])
    listed = seeded.http.get(f"/api/1/admin/users/{claims['sub']}/sessions", headers=admin).json()
    assert [s["id"] for s in listed] == [claims["sid"]]
    revoked = seeded.http.delete(f"/api/1/admin/sessions/{claims['sid']}", headers=admin)
    assert revoked.status_code == 204
    assert seeded.http.get(f"/api/1/admin/users/{claims['sub']}/sessions", headers=admin).json() == []
    refreshed = seeded.token(
        {"grant_type": "refresh_token", "client_id": "first-party", "refresh_token": session["refresh_token"]}
    )
    assert refreshed.status_code == 400
    me = seeded.http.get("/api/1/users/me", headers=seeded.bearer(session["access_token"]))
    assert me.status_code == 401


def test_audit_records_logins_and_admin_changes(seeded: AuthClient, admin: dict[str, str]) -> None:
    seeded.token(
        {
            "grant_type": "password",
            "client_id": "first-party",
            "username": AGENT_EMAIL,
            "password": "nope nope nope",
        }
    )
    seeded.http.post("/api/1/admin/roles/", json={"name": "temp", "scopes": []}, headers=admin)
    events = seeded.http.get("/api/1/admin/audit-events/", headers=admin).json()["items"]
    actions = [(e["action"], e["outcome"]) for e in events]
    assert ("role.create", "success") in actions
    assert ("login", "failure") in actions
    assert ("login", "success") in actions
    failure = next(e for e in events if e["action"] == "login" and e["outcome"] == "failure")
    assert failure["details"]["reason"] == "wrong_password"
    assert "nope" not in str(failure)
    role_event = next(e for e in events if e["action"] == "role.create")
    admin_id = seeded.http.get("/api/1/users/me", headers=admin).json()["id"]
    assert role_event["actor"] == admin_id
    assert role_event["target_id"] == "temp"
    assert role_event["occurred_at"]
