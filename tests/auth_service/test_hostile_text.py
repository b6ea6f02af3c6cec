"""SQL metacharacters, NUL, bidi controls, emoji and 10k-character strings in the auth service's
user fields (email, password, roles) and at the token endpoint: stored and answered exactly, or
refused with a 4xx naming the field; never a 500, never a wildcard match.

The last group is what the fuzzer found: a NUL (U+0000) in text that reached PostgreSQL was
answered 500 (PostgreSQL text cannot hold U+0000). The OAuth endpoints refuse it before any
lookup; elsewhere the shared error model answers 400.
"""

from __future__ import annotations

import base64
from typing import Any

import asyncpg
import httpx
import pytest

from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    AuthClient,
    SettingsFactory,
)

USERS = "/api/1/admin/users"
PROBLEM = "application/problem+json"
PASSWORD = "lighthouse keeper marmalade 7"


@pytest.fixture
def admin(seeded: AuthClient) -> dict[str, str]:
    return seeded.bearer(seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])


def _password_grant(auth: AuthClient, username: str, password: str) -> httpx.Response:
    form = {"grant_type": "password", "client_id": "first-party", "username": username, "password": password}
    return auth.token(form)


def _users_in_db(auth: AuthClient, settings: SettingsFactory) -> list[str]:
    async def emails() -> list[str]:
        conn = await asyncpg.connect(settings().database.database_url)
        try:
            return [row["email"] for row in await conn.fetch("SELECT email FROM users ORDER BY email")]
        finally:
            await conn.close()

    result: list[str] = auth.call(emails)
    return result


# --- email ----------------------------------------------------------------------------------------

STORED_AS = {
    "o'brien@example.com": "o'brien@example.com",
    "100%sure@example.com": "100%sure@example.com",
    "under_score@example.com": "under_score@example.com",
    "d.o'neil+tag@Example.COM": "d.o'neil+tag@example.com",  # domain lower-cased
    "jöhn.dœ@exämple.com": "jöhn.dœ@exämple.com",
    "😀@example.com": "😀@example.com",
}


def test_emails_with_metacharacters_are_stored_exactly_and_log_in(
    seeded: AuthClient, admin: dict[str, str], make_settings: SettingsFactory
) -> None:
    created = {
        email: seeded.http.post(USERS, json={"email": email, "password": PASSWORD}, headers=admin)
        for email in STORED_AS
    }
    assert {email: r.status_code for email, r in created.items()} == dict.fromkeys(STORED_AS, 201)
    assert {email: r.json()["email"] for email, r in created.items()} == STORED_AS
    fetched = {
        email: seeded.http.get(f"{USERS}/{r.json()['id']}", headers=admin).json()["email"]
        for email, r in created.items()
    }
    assert fetched == STORED_AS
    assert set(STORED_AS.values()) <= set(_users_in_db(seeded, make_settings))
    logins = {email: _password_grant(seeded, email, PASSWORD).status_code for email in STORED_AS}
    assert logins == dict.fromkeys(STORED_AS, 200)


REFUSED_EMAILS = {
    "a\x00b@example.com": 422,
    "a\x1bb@example.com": 422,
    "a\u200fb@example.com": 422,  # right-to-left mark
    "\u202eab@example.com": 422,  # right-to-left override
    "a\\b@example.com": 422,
    "ab@exam_ple.com": 422,
    "ab@exam%ple.com": 422,
    "' OR '1'='1": 422,
    "x" * 10_000 + "@example.com": 400,  # over the schema's 320 characters
}


def test_hostile_emails_are_refused(
    seeded: AuthClient, admin: dict[str, str], make_settings: SettingsFactory
) -> None:
    before = _users_in_db(seeded, make_settings)
    answers = {
        email: seeded.http.post(USERS, json={"email": email, "password": PASSWORD}, headers=admin)
        for email in REFUSED_EMAILS
    }
    assert {email: r.status_code for email, r in answers.items()} == REFUSED_EMAILS
    assert {r.headers["content-type"] for r in answers.values()} == {PROBLEM}
    fields = {email: [error["field"] for error in r.json()["errors"]] for email, r in answers.items()}
    assert fields == {email: ["email"] for email in REFUSED_EMAILS}
    updates = {
        email: seeded.http.patch(
            f"{USERS}/{_user_id(seeded, AGENT_EMAIL, admin)}", json={"email": email}, headers=admin
        ).status_code
        for email in REFUSED_EMAILS
    }
    assert updates == REFUSED_EMAILS
    assert _users_in_db(seeded, make_settings) == before


LOGIN_NAMES = [
    "agent_smith@example.com",  # _ would match the . under LIKE
    "agent%@example.com",
    "%@example.com",
    "%",
    "_gent.smith@example.com",
    "agent.smith@example.com' --",
    "' OR '1'='1",
    "agent.smith@example.com\u200f",
    "\\agent.smith@example.com",
]


def test_login_names_are_never_patterns(seeded: AuthClient) -> None:
    """The agent's real password with names that a LIKE or an injected quote would match."""
    answers = {name: _password_grant(seeded, name, AGENT_PASSWORD) for name in LOGIN_NAMES}
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(LOGIN_NAMES, 400)
    assert {r.json()["error"] for r in answers.values()} == {"invalid_grant"}


def test_ten_thousand_character_login_name_is_a_malformed_request(seeded: AuthClient) -> None:
    response = _password_grant(seeded, "a" * 10_000, AGENT_PASSWORD)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"


# --- password -------------------------------------------------------------------------------------

PASSWORDS = {
    "quote": "O'Brien'; DROP TABLE users; -- 9",
    "wildcards": "100% sure _ wild \\ back \\' slash",
    "rtl-mark": "lantern\u200forchard bicycle 7",
    "rtl-override": "\u202eorchard lantern bicycle 7",
    "emoji": "emoji 👩🏽‍💻 lantern orchard 🇧🇷",
}


def test_passwords_with_metacharacters_log_in_only_exactly(seeded: AuthClient, admin: dict[str, str]) -> None:
    for kind, password in PASSWORDS.items():
        body = {"email": _holder(kind), "password": password}
        response = seeded.http.post(USERS, json=body, headers=admin)
        assert response.status_code == 201, response.text
    exact = {kind: _password_grant(seeded, _holder(kind), pw).status_code for kind, pw in PASSWORDS.items()}
    assert exact == dict.fromkeys(PASSWORDS, 200)
    altered = {
        kind: _password_grant(seeded, _holder(kind), _altered(pw)).status_code
        for kind, pw in PASSWORDS.items()
    }
    assert altered == dict.fromkeys(PASSWORDS, 400)


def _holder(kind: str) -> str:
    """An address whose name part is in none of the passwords (the policy refuses that)."""
    return f"holder{list(PASSWORDS).index(kind)}@example.com"


def _altered(password: str) -> str:
    """The password without its hostile character, or with a wildcard added when it has none."""
    for hostile in ("\u200f", "\u202e", "'", "👩🏽‍💻", "%"):
        if hostile in password:
            return password.replace(hostile, "", 1)
    return password + "%"


def test_ten_thousand_character_passwords_are_refused_everywhere(
    seeded: AuthClient, admin: dict[str, str]
) -> None:
    long = "correct horse " * 715  # 10 010 characters
    agent_id = _user_id(seeded, AGENT_EMAIL, admin)
    created = seeded.http.post(USERS, json={"email": "long@example.com", "password": long}, headers=admin)
    assert created.status_code == 400, created.text
    assert [error["field"] for error in created.json()["errors"]] == ["password"]
    reset = seeded.http.post(f"{USERS}/{agent_id}/password", json={"password": long}, headers=admin)
    assert reset.status_code == 400, reset.text
    own = seeded.bearer(seeded.admin_login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"])
    change = seeded.http.post(
        "/api/1/users/me/password",
        json={"current_password": AGENT_PASSWORD, "new_password": long},
        headers=own,
    )
    assert change.status_code == 400, change.text
    assert _password_grant(seeded, "long@example.com", long).status_code == 400
    assert _password_grant(seeded, AGENT_EMAIL, AGENT_PASSWORD).status_code == 200


def _user_id(auth: AuthClient, email: str, admin: dict[str, str]) -> str:
    page = auth.http.get(USERS, headers=admin).json()
    return str(next(user["id"] for user in page["items"] if user["email"] == email))


# --- roles ----------------------------------------------------------------------------------------


ROLES = ["admi_", "adm%", "%", "admin'--", "admin\\", "ADMIN", "admin\u200f"]


def test_role_names_are_never_patterns(seeded: AuthClient, admin: dict[str, str]) -> None:
    created = {
        role: seeded.http.post(
            USERS, json={"email": "r@example.com", "password": PASSWORD, "roles": [role]}, headers=admin
        )
        for role in ROLES
    }
    assert {role: r.status_code in (400, 422) for role, r in created.items()} == dict.fromkeys(ROLES, True)
    fields = {role: r.json()["errors"][0]["field"][:5] for role, r in created.items()}
    assert fields == dict.fromkeys(ROLES, "roles")
    agent_id = _user_id(seeded, AGENT_EMAIL, admin)
    assigned = {role: seeded.http.put(f"{USERS}/{agent_id}/roles/{role}", headers=admin) for role in ROLES}
    assert {role: r.status_code for role, r in assigned.items()} == dict.fromkeys(ROLES, 404)
    assert seeded.http.get(f"{USERS}/{agent_id}", headers=admin).json()["roles"] == ["agent"]


# --- NUL reaching PostgreSQL (found by tests/fuzz) -------------------------------------------------

BASIC_NUL = "Basic " + base64.b64encode(b"first%00party:secret").decode()
NUL_CURSOR = base64.urlsafe_b64encode(b"a\x00b").decode()

NUL_REQUESTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "token client_id": (
        "POST",
        "/oauth/token",
        {"data": {"grant_type": "client_credentials", "client_id": "first\x00party"}},
    ),
    "token username": (
        "POST",
        "/oauth/token",
        {
            "data": {
                "grant_type": "password",
                "client_id": "first-party",
                "username": "a\x00",
                "password": "x",
            }
        },
    ),
    "token Basic client id": (
        "POST",
        "/oauth/token",
        {"data": {"grant_type": "client_credentials"}, "headers": {"Authorization": BASIC_NUL}},
    ),
    "revoke client_id": ("POST", "/oauth/revoke", {"data": {"token": "x", "client_id": "a\x00"}}),
    "introspect client_id": ("POST", "/oauth/introspect", {"data": {"token": "x", "client_id": "a\x00"}}),
    "role name in path": ("GET", "/api/1/admin/roles/a%00b", {}),
    "role description": (
        "POST",
        "/api/1/admin/roles",
        {"json": {"name": "nul", "scopes": [], "description": "a\x00b"}},
    ),
    "client id in path": ("GET", "/api/1/admin/clients/a%00b", {}),
    "client_name": ("POST", "/api/1/admin/clients", {"json": {"client_name": "a\x00b"}}),
    "users cursor": ("GET", USERS, {"params": {"cursor": NUL_CURSOR}}),
    "audit action filter": ("GET", "/api/1/admin/audit-events", {"params": {"action": "a\x00b"}}),
}


@pytest.mark.parametrize(
    "where",
    [pytest.param(where) for where in NUL_REQUESTS],
)
def test_nul_is_refused_before_the_database(seeded: AuthClient, admin: dict[str, str], where: str) -> None:
    method, path, given = NUL_REQUESTS[where]
    kwargs = dict(given)
    oauth = path.startswith("/oauth/")
    headers = {**({} if oauth else admin), **kwargs.pop("headers", {})}
    response = seeded.http.request(method, path, headers=headers, **kwargs)
    assert response.status_code in ((400, 401) if oauth else (400, 404, 422)), response.text
