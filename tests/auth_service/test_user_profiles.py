"""The profile claims of an account (OpenID Connect Core section 5.1) through the admin users API:
set at creation or by PATCH, shown in the ``User`` body, validated (lengths, no control characters,
``locale`` a BCP 47 tag), ``null`` clearing one; ``email_verified`` is the admin's to set."""

from __future__ import annotations

from typing import Any

import pytest

from tests.auth_service.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, AGENT_EMAIL, AGENT_PASSWORD, AuthClient

USERS = "/api/1/admin/users/"
PASSWORD = "a long enough passphrase 42"


@pytest.fixture
def admin(seeded: AuthClient) -> dict[str, str]:
    return seeded.bearer(seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])


def create(auth: AuthClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = auth.http.post(
        USERS, json={"email": "ana@example.com", "password": PASSWORD, **fields}, headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_profile_claims_are_set_shown_changed_and_cleared(seeded: AuthClient, admin: dict[str, str]) -> None:
    created = create(seeded, admin, name="Ana Souza", given_name="Ana", family_name="Souza", locale="pt-BR",
                     email_verified=True)  # fmt: skip
    assert (created["name"], created["given_name"], created["family_name"]) == ("Ana Souza", "Ana", "Souza")
    assert (created["locale"], created["email_verified"]) == ("pt-BR", True)
    url = USERS + created["id"]
    patched = seeded.http.patch(url, json={"name": "Ana S.", "family_name": None}, headers=admin)
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["name"], body["given_name"], body["family_name"], body["email_verified"]) == (
        "Ana S.", "Ana", None, True,
    )  # fmt: skip
    moved = seeded.http.patch(url, json={"email": "ana.souza@example.com"}, headers=admin).json()
    assert moved["email_verified"] is False  # a new address is not verified by the old one's check
    assert seeded.http.get(url, headers=admin).json()["name"] == "Ana S."
    plain = seeded.http.get(USERS, headers=admin).json()["items"]
    agent = next(u for u in plain if u["email"] == AGENT_EMAIL)
    assert (agent["email_verified"], agent["name"], agent["locale"]) == (False, None, None)
    events = seeded.http.get("/api/1/admin/audit-events", params={"target_id": created["id"]}, headers=admin)
    updates = [e["details"] for e in events.json()["items"] if e["action"] == "user.update"]
    assert {"profile": ["name", "family_name"]} in updates  # the names of what changed, not the values


@pytest.mark.parametrize(
    "fields",
    [
        {"name": ""},
        {"name": "x" * 201},
        {"given_name": "x" * 101},
        {"family_name": "Souza\x00"},
        {"name": "Ana\nSouza"},
        {"locale": "portuguese-brazil-x"},
        {"locale": "pt_BR"},
        {"locale": "p"},
        {"email_verified": "yes"},
    ],
)
def test_invalid_profile_values_are_refused_and_change_nothing(
    seeded: AuthClient, admin: dict[str, str], fields: dict[str, Any]
) -> None:
    created = create(seeded, admin, name="Ana Souza")
    patched = seeded.http.patch(USERS + created["id"], json=fields, headers=admin)
    assert patched.status_code == 400, patched.text
    assert patched.headers["content-type"] == "application/problem+json"
    refused = seeded.http.post(
        USERS, json={"email": "x@example.com", "password": PASSWORD, **fields}, headers=admin
    )
    assert refused.status_code == 400
    assert seeded.http.get(USERS + created["id"], headers=admin).json()["name"] == "Ana Souza"


def test_a_person_cannot_verify_their_own_email(seeded: AuthClient) -> None:
    own = seeded.bearer(seeded.admin_login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"])
    me = seeded.http.get("/api/1/users/me", headers=own)
    assert me.status_code == 200
    assert me.json()["email_verified"] is False
    attempt = seeded.http.patch(USERS + me.json()["id"], json={"email_verified": True}, headers=own)
    assert attempt.status_code == 403  # the admin users API needs admin:users
