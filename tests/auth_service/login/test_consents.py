"""Consents: remembered per user and client, growing only by what was allowed, revocable with the
app's sessions."""

from __future__ import annotations

import json
from uuid import UUID

from auth_service.audit.service import Actor
from tests.auth_service.conftest import AGENT_EMAIL, AGENT_PASSWORD, AuthClient, basic
from tests.auth_service.login.db import fetch
from tests.auth_service.login.test_browser_sessions import user_id_of
from tests.auth_service.test_refresh_and_revocation import refresh
from tests.auth_service.test_token_grants import assert_oauth_error

PERSON = Actor(id="person", source_ip="192.0.2.9")


def covers(auth: AuthClient, user_id: UUID, client_id: str, scopes: list[str]) -> bool:
    answer: bool = auth.call(auth.services.browser.consents.covers, user_id, client_id, scopes)
    return answer


def test_a_consent_covers_what_was_allowed_and_grows(seeded: AuthClient) -> None:
    user_id = user_id_of(seeded, AGENT_EMAIL)
    consents = seeded.services.browser.consents
    assert not covers(seeded, user_id, "first-party", ["openid"])
    seeded.call(consents.remember, user_id, "first-party", ["openid", "customers:read"], PERSON)
    assert covers(seeded, user_id, "first-party", ["openid"])
    assert covers(seeded, user_id, "first-party", ["customers:read", "openid"])
    assert covers(seeded, user_id, "first-party", [])
    assert not covers(seeded, user_id, "first-party", ["openid", "email"])
    assert not covers(seeded, user_id, "auth-cli", ["openid"])  # per client
    seeded.call(consents.remember, user_id, "first-party", ["email", "openid"], PERSON)
    assert covers(seeded, user_id, "first-party", ["customers:read", "email", "openid"])
    (consent,) = seeded.call(consents.of_user, user_id)
    assert consent.client_id == "first-party"
    assert consent.scopes == ["customers:read", "email", "openid"]
    assert consent.client_name
    assert consent.updated_at >= consent.granted_at
    events = fetch(seeded, "SELECT action, details FROM audit_events WHERE action = 'consent.grant'")
    assert [json.loads(e["details"])["scopes"] for e in events] == [
        ["customers:read", "openid"],
        ["email", "openid"],
    ]


def test_revoking_a_consent_ends_the_apps_sessions_only(seeded: AuthClient) -> None:
    user_id = user_id_of(seeded, AGENT_EMAIL)
    consents = seeded.services.browser.consents
    other = seeded.create_client(
        client_name="Other app", grant_types=["password", "refresh_token"], scope="customers:read"
    )
    other_auth = basic(other.client_id, other.client_secret or "")
    seeded.call(consents.remember, user_id, "first-party", ["openid"], PERSON)
    seeded.call(consents.remember, user_id, other.client_id, ["customers:read"], PERSON)
    mine = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    theirs = seeded.token(
        {
            "grant_type": "password",
            "username": AGENT_EMAIL,
            "password": AGENT_PASSWORD,
        },
        headers=other_auth,
    ).json()
    assert seeded.call(consents.revoke, user_id, "first-party", PERSON) is True
    assert not covers(seeded, user_id, "first-party", ["openid"])
    assert_oauth_error(refresh(seeded, mine["refresh_token"]), 400, "invalid_grant")
    kept = seeded.token(
        {
            "grant_type": "refresh_token",
            "refresh_token": theirs["refresh_token"],
        },
        headers=other_auth,
    )
    assert kept.status_code == 200, kept.text
    assert [c.client_id for c in seeded.call(consents.of_user, user_id)] == [other.client_id]
    assert seeded.call(consents.revoke, user_id, "first-party", PERSON) is False
    (event,) = fetch(
        seeded, "SELECT actor, target_id, details FROM audit_events WHERE action = 'consent.revoke'"
    )
    assert (event["actor"], event["target_id"]) == ("person", str(user_id))
    assert json.loads(event["details"]) == {"client_id": "first-party"}
