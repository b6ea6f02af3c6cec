"""The API of browser sessions and consents: admins list and end them, a person sees their own.

Each ending is shown by what it does to the tokens: ending a browser session stops the refresh
tokens of the apps it logged in (and only those); taking a consent back stops that app's tokens.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from auth_service.browser_sessions.service import BrowserSession
from auth_service.oidc.assurance import ACR_ONE_FACTOR, AMR_PASSWORD
from tests.auth_service.code_flow import exchanged, pkce, refresh, store_code, user_id
from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    SYSTEM,
    AuthClient,
)

BUDGET = "budget-app"
BUDGET_REDIRECT = "https://budget.example/callback"


def start_session(auth: AuthClient, user: UUID, agent: str = "Firefox/140") -> BrowserSession:
    session, _secret = auth.call(
        auth.services.browser.browser_sessions.start,
        user,
        amr=[AMR_PASSWORD],
        acr=ACR_ONE_FACTOR,
        source_ip="203.0.113.7",
        user_agent=agent,
        replacing=None,
    )
    assert isinstance(session, BrowserSession)
    return session


def app_login(
    auth: AuthClient, user: UUID, session: UUID | None, client_id: str = "auth-cli"
) -> dict[str, Any]:
    """Tokens of an app's login inside ``session``, as the authorization endpoint would issue them."""
    verifier, challenge = pkce()
    redirect = BUDGET_REDIRECT if client_id == BUDGET else "http://127.0.0.1:53682/callback"
    code = store_code(
        auth,
        user,
        challenge,
        scopes=["customers:read"],
        resources=["customers"],
        client_id=client_id,
        redirect_uri=redirect,
        browser_session_id=session,
    )
    return exchanged(auth, code, verifier, client_id=client_id, redirect_uri=redirect)


@pytest.fixture
def people(seeded: AuthClient) -> dict[str, Any]:
    seeded.create_client(
        client_id=BUDGET,
        client_name="Budget planner",
        grant_types=["authorization_code", "refresh_token"],
        token_endpoint_auth_method="none",
        redirect_uris=[BUDGET_REDIRECT],
        scope="customers:read",
    )
    admin = seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)
    me = seeded.admin_login(AGENT_EMAIL, AGENT_PASSWORD)
    return {
        "agent": user_id(seeded, AGENT_EMAIL),
        "admin": seeded.bearer(admin["access_token"]),
        "me": seeded.bearer(me["access_token"]),
    }


def audited(auth: AuthClient, action: str) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        async with auth.services.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT actor, target_id, details FROM audit_events WHERE action = $1 ORDER BY id", action
            )
        return [dict(row) for row in rows]

    result: list[dict[str, Any]] = auth.call(run)
    return result


# ---------------------------------------------------------------- browser sessions
def test_an_admin_lists_a_users_browser_sessions_newest_first(
    seeded: AuthClient, people: dict[str, Any]
) -> None:
    older = start_session(seeded, people["agent"], "Firefox/140")
    newer = start_session(seeded, people["agent"], "Chrome/141")
    url = f"/api/1/admin/users/{people['agent']}/browser-sessions"
    response = seeded.http.get(url, headers=people["admin"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["id"] for item in body] == [str(newer.id), str(older.id)]
    first = body[0]
    assert first["user_id"] == str(people["agent"])
    assert first["amr"] == ["pwd"]
    assert first["acr"] == "1"
    assert first["user_agent"] == "Chrome/141"
    assert first["source_ip"] == "203.0.113.7"
    assert isinstance(first["auth_time"], int)
    assert {"created_at", "last_seen_at", "expires_at"} <= first.keys()


def test_listing_needs_admin_users_and_an_existing_user(seeded: AuthClient, people: dict[str, Any]) -> None:
    url = f"/api/1/admin/users/{people['agent']}/browser-sessions"
    assert seeded.http.get(url).status_code == 401
    refused = seeded.http.get(url, headers=people["me"])  # the agent holds no admin:users
    assert refused.status_code == 403
    unknown = seeded.http.get(f"/api/1/admin/users/{uuid4()}/browser-sessions", headers=people["admin"])
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert (
        seeded.http.get("/api/1/admin/users/nope/browser-sessions", headers=people["admin"]).status_code
        == 404
    )


def test_an_admin_ends_a_browser_session_and_its_apps_tokens_stop(
    seeded: AuthClient, people: dict[str, Any]
) -> None:
    agent = people["agent"]
    ended = start_session(seeded, agent)
    kept = start_session(seeded, agent)
    inside = app_login(seeded, agent, ended.id)
    outside = app_login(seeded, agent, kept.id)

    response = seeded.http.delete(f"/api/1/admin/browser-sessions/{ended.id}", headers=people["admin"])
    assert response.status_code == 204, response.text

    assert refresh(seeded, inside["refresh_token"]).json()["error"] == "invalid_grant"
    assert refresh(seeded, outside["refresh_token"]).status_code == 200
    listed = seeded.http.get(f"/api/1/admin/users/{agent}/browser-sessions", headers=people["admin"]).json()
    assert [item["id"] for item in listed] == [str(kept.id)]
    assert seeded.call(seeded.services.browser.browser_sessions.get, ended.id) is None
    events = [e for e in audited(seeded, "browser_session.end") if e["target_id"] == str(ended.id)]
    assert len(events) == 1
    assert events[0]["actor"] == str(user_id(seeded, ADMIN_EMAIL))
    # ended already, or never existed: 404, not a silent success
    again = seeded.http.delete(f"/api/1/admin/browser-sessions/{ended.id}", headers=people["admin"])
    assert again.status_code == 404
    assert again.json()["type"].endswith("/not-found")
    assert (
        seeded.http.delete(f"/api/1/admin/browser-sessions/{uuid4()}", headers=people["admin"]).status_code
        == 404
    )
    forbidden = seeded.http.delete(f"/api/1/admin/browser-sessions/{kept.id}", headers=people["me"])
    assert forbidden.status_code == 403


def test_a_person_lists_their_own_browser_sessions_only(seeded: AuthClient, people: dict[str, Any]) -> None:
    mine = start_session(seeded, people["agent"])
    start_session(seeded, user_id(seeded, ADMIN_EMAIL))
    response = seeded.http.get("/api/1/users/me/browser-sessions", headers=people["me"])
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [str(mine.id)]
    assert seeded.http.get("/api/1/users/me/browser-sessions").status_code == 401


# ---------------------------------------------------------------- consents
def remember(auth: AuthClient, user: UUID, client_id: str, scopes: list[str]) -> None:
    auth.call(auth.services.browser.consents.remember, user, client_id, scopes, SYSTEM)


def test_consents_are_listed_for_admins_and_the_person(seeded: AuthClient, people: dict[str, Any]) -> None:
    remember(seeded, people["agent"], BUDGET, ["openid", "customers:read"])
    for url, headers in (
        (f"/api/1/admin/users/{people['agent']}/consents", people["admin"]),
        ("/api/1/users/me/consents", people["me"]),
    ):
        response = seeded.http.get(url, headers=headers)
        assert response.status_code == 200, response.text
        (consent,) = response.json()
        assert consent["client_id"] == BUDGET
        assert consent["client_name"] == "Budget planner"
        assert consent["scopes"] == ["customers:read", "openid"]
        assert {"granted_at", "updated_at"} <= consent.keys()
    admin_id = user_id(seeded, ADMIN_EMAIL)
    assert seeded.http.get(f"/api/1/admin/users/{admin_id}/consents", headers=people["admin"]).json() == []
    assert (
        seeded.http.get(f"/api/1/admin/users/{uuid4()}/consents", headers=people["admin"]).status_code == 404
    )
    assert seeded.http.get(f"/api/1/admin/users/{admin_id}/consents", headers=people["me"]).status_code == 403


def test_a_person_takes_a_consent_back_and_the_apps_tokens_stop(
    seeded: AuthClient, people: dict[str, Any]
) -> None:
    agent = people["agent"]
    remember(seeded, agent, BUDGET, ["customers:read"])
    budget = app_login(seeded, agent, None, client_id=BUDGET)
    other_app = app_login(seeded, agent, None)
    response = seeded.http.delete(f"/api/1/users/me/consents/{BUDGET}", headers=people["me"])
    assert response.status_code == 204, response.text
    assert refresh(seeded, budget["refresh_token"], client_id=BUDGET).json()["error"] == "invalid_grant"
    assert refresh(seeded, other_app["refresh_token"]).status_code == 200
    assert seeded.http.get("/api/1/users/me/consents", headers=people["me"]).json() == []
    assert not seeded.call(seeded.services.browser.consents.covers, agent, BUDGET, ["customers:read"])
    events = audited(seeded, "consent.revoke")
    assert [(e["actor"], e["target_id"]) for e in events] == [(str(agent), str(agent))]
    again = seeded.http.delete(f"/api/1/users/me/consents/{BUDGET}", headers=people["me"])
    assert again.status_code == 404
    assert again.headers["content-type"] == "application/problem+json"


def test_an_admin_takes_a_users_consent_back(seeded: AuthClient, people: dict[str, Any]) -> None:
    agent = people["agent"]
    remember(seeded, agent, BUDGET, ["customers:read"])
    url = f"/api/1/admin/users/{agent}/consents/{BUDGET}"
    assert seeded.http.delete(url, headers=people["me"]).status_code == 403
    assert seeded.http.delete(url, headers=people["admin"]).status_code == 204
    assert seeded.http.get(f"/api/1/admin/users/{agent}/consents", headers=people["admin"]).json() == []
    assert seeded.http.delete(url, headers=people["admin"]).status_code == 404
    unknown_user = f"/api/1/admin/users/{uuid4()}/consents/{BUDGET}"
    assert seeded.http.delete(unknown_user, headers=people["admin"]).status_code == 404


def test_a_clients_own_token_has_no_consents(seeded: AuthClient, people: dict[str, Any]) -> None:
    """``sub`` of a client_credentials token is the client: 403 not-a-user, never a 500."""
    client = seeded.create_client(client_id="robot", scope="admin:audit", resources=["auth"])
    token = seeded.token(
        {"grant_type": "client_credentials", "resource": "auth"},
        auth=(client.client_id, client.client_secret),
    )
    assert token.status_code == 200, token.text
    headers = seeded.bearer(token.json()["access_token"])
    for url in ("/api/1/users/me/consents", "/api/1/users/me/browser-sessions"):
        response = seeded.http.get(url, headers=headers)
        assert response.status_code == 403, url
        assert response.json()["type"].endswith("/not-a-user")
