"""Browser (SSO) sessions: found by the cookie's secret only while live, ended with their families."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

import pytest

from auth_service.audit.service import Actor
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.browser_sessions.service import BrowserSession, EndedSession
from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    AuthClient,
)
from tests.auth_service.login.db import execute, fetch
from tests.auth_service.login.flow import log_in_through, web_client
from tests.auth_service.test_refresh_and_revocation import INACTIVE, introspect, refresh
from tests.auth_service.test_token_grants import assert_oauth_error, claims_of

ADMIN_ACTOR = Actor(id="admin-test", source_ip="192.0.2.1")


def user_id_of(auth: AuthClient, email: str) -> UUID:
    rows = fetch(auth, "SELECT id FROM users WHERE email = $1", email)
    user_id: UUID = rows[0]["id"]
    return user_id


def start(auth: AuthClient, user_id: UUID, replacing: UUID | None = None) -> tuple[BrowserSession, str]:
    result: tuple[BrowserSession, str] = auth.call(
        auth.services.browser.browser_sessions.start,
        user_id,
        amr=["pwd"],
        acr="1",
        source_ip="192.0.2.7",
        user_agent="Mozilla/5.0 " + "x" * 600,
        replacing=replacing,
    )
    return result


def current(auth: AuthClient, secret: str | None) -> BrowserSession | None:
    found: BrowserSession | None = auth.call(auth.services.browser.browser_sessions.current, secret)
    return found


def tie_family(auth: AuthClient, access_token: str, session: BrowserSession) -> None:
    """Record that the family of a password-grant login was created by ``session``."""
    family_id = UUID(claims_of(access_token)["sid"])
    execute(auth, "UPDATE refresh_families SET browser_session_id = $2 WHERE id = $1", family_id, session.id)


def test_a_session_is_found_by_its_secret_only(seeded: AuthClient) -> None:
    user_id = user_id_of(seeded, AGENT_EMAIL)
    before = int(time.time())
    session, secret = start(seeded, user_id)
    found = current(seeded, secret)
    assert found is not None
    assert found.id == session.id
    assert found.user_id == user_id
    assert before - 1 <= found.auth_time <= int(time.time()) + 1
    assert (found.amr, found.acr, found.source_ip) == (["pwd"], "1", "192.0.2.7")
    assert found.user_agent is not None
    assert len(found.user_agent) == 500
    assert current(seeded, None) is None
    assert current(seeded, secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    # only the secret's SHA-256 is stored
    (row,) = fetch(seeded, "SELECT digest FROM browser_sessions WHERE id = $1", session.id)
    assert secret.encode() not in row["digest"]
    assert len(row["digest"]) == 32


def test_every_login_gets_a_new_id_and_secret(seeded: AuthClient) -> None:
    user_id = user_id_of(seeded, AGENT_EMAIL)
    first, first_secret = start(seeded, user_id)
    second, second_secret = start(seeded, user_id, replacing=first.id)
    assert second.id != first.id
    assert second_secret != first_secret
    assert current(seeded, first_secret) is None  # the replaced one is ended
    assert current(seeded, second_secret) is not None


def test_idle_and_absolute_lifetimes(seeded: AuthClient) -> None:
    user_id = user_id_of(seeded, AGENT_EMAIL)
    idle = seeded.services.settings.login.session_idle_ttl
    session, secret = start(seeded, user_id)
    execute(
        seeded,
        "UPDATE browser_sessions SET last_seen_at = now() - make_interval(secs => $2) WHERE id = $1",
        session.id,
        idle - 5,
    )
    assert current(seeded, secret) is not None  # just within the idle lifetime, and touched now
    execute(
        seeded,
        "UPDATE browser_sessions SET last_seen_at = now() - make_interval(secs => $2) WHERE id = $1",
        session.id,
        idle + 1,
    )
    assert current(seeded, secret) is None
    other, other_secret = start(seeded, user_id)
    execute(seeded, "UPDATE browser_sessions SET expires_at = now() - interval '1 s' WHERE id = $1", other.id)
    assert current(seeded, other_secret) is None
    assert seeded.call(seeded.services.browser.browser_sessions.get, other.id) is None


def test_last_seen_is_touched_at_most_once_a_minute(seeded: AuthClient) -> None:
    session, secret = start(seeded, user_id_of(seeded, AGENT_EMAIL))
    query = "SELECT last_seen_at, xmin::text AS version FROM browser_sessions WHERE id = $1"
    (before,) = fetch(seeded, query, session.id)
    current(seeded, secret)
    (after,) = fetch(seeded, query, session.id)
    assert after == before  # no write at all: not even a new row version
    execute(
        seeded,
        "UPDATE browser_sessions SET last_seen_at = now() - interval '2 minutes' WHERE id = $1",
        session.id,
    )
    (moved,) = fetch(seeded, query, session.id)
    current(seeded, secret)
    (touched,) = fetch(seeded, query, session.id)
    assert touched["last_seen_at"] > moved["last_seen_at"]


def test_ending_revokes_the_families_and_tells_the_hooks(
    seeded: AuthClient, introspector: dict[str, str]
) -> None:
    user_id = user_id_of(seeded, AGENT_EMAIL)
    session, secret = start(seeded, user_id)
    tied = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    tie_family(seeded, tied["access_token"], session)
    untied = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)  # another login, not of this browser session
    told: list[EndedSession] = []

    async def hook(ended: EndedSession) -> None:
        told.append(ended)

    async def broken(ended: EndedSession) -> None:
        raise RuntimeError("receiver down")

    seeded.services.browser.browser_sessions.on_ended(broken)
    seeded.services.browser.browser_sessions.on_ended(hook)
    ended = seeded.call(seeded.services.browser.browser_sessions.end, session.id, "logout", ADMIN_ACTOR)
    assert ended == EndedSession(id=session.id, user_id=user_id, client_ids=["first-party"])
    assert told == [ended]  # after the broken hook: its failure is logged, not raised
    assert current(seeded, secret) is None
    assert (
        seeded.call(seeded.services.browser.browser_sessions.end, session.id, "logout", ADMIN_ACTOR) is None
    )
    assert_oauth_error(refresh(seeded, tied["refresh_token"]), 400, "invalid_grant")
    assert introspect(seeded, tied["access_token"], introspector) == INACTIVE
    assert introspect(seeded, untied["access_token"], introspector)["active"] is True
    assert refresh(seeded, untied["refresh_token"]).status_code == 200
    (row,) = fetch(seeded, "SELECT ended_reason FROM browser_sessions WHERE id = $1", session.id)
    assert row["ended_reason"] == "logout"
    events = fetch(
        seeded,
        "SELECT action, actor, details FROM audit_events WHERE target_id = $1 ORDER BY id",
        str(session.id),
    )
    assert [e["action"] for e in events] == ["browser_session.start", "browser_session.end"]
    assert events[1]["actor"] == "admin-test"


def test_replacing_a_session_of_the_same_person_keeps_the_apps_logged_in(seeded: AuthClient) -> None:
    user_id = user_id_of(seeded, AGENT_EMAIL)
    first, _ = start(seeded, user_id)
    app = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    tie_family(seeded, app["access_token"], first)
    second, _ = start(seeded, user_id, replacing=first.id)
    assert refresh(seeded, app["refresh_token"]).status_code == 200
    family = UUID(claims_of(app["access_token"])["sid"])
    (row,) = fetch(seeded, "SELECT browser_session_id FROM refresh_families WHERE id = $1", family)
    assert row["browser_session_id"] == second.id  # logging out of the new session ends the app too


def test_replacing_another_persons_session_ends_it_in_full(seeded: AuthClient) -> None:
    agent = user_id_of(seeded, AGENT_EMAIL)
    admin = user_id_of(seeded, ADMIN_EMAIL)
    first, _ = start(seeded, agent)
    app = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    tie_family(seeded, app["access_token"], first)
    told: list[EndedSession] = []

    async def hook(ended: EndedSession) -> None:
        told.append(ended)

    seeded.services.browser.browser_sessions.on_ended(hook)
    start(seeded, admin, replacing=first.id)
    assert told == [EndedSession(id=first.id, user_id=agent, client_ids=["first-party"])]
    assert_oauth_error(refresh(seeded, app["refresh_token"]), 400, "invalid_grant")


def test_for_user_lists_live_sessions_newest_first(seeded: AuthClient) -> None:
    user_id = user_id_of(seeded, AGENT_EMAIL)
    older, _ = start(seeded, user_id)
    ended, _ = start(seeded, user_id)
    newer, _ = start(seeded, user_id)
    seeded.call(seeded.services.browser.browser_sessions.end, ended.id, "logout", ADMIN_ACTOR)
    listed = seeded.call(seeded.services.browser.browser_sessions.for_user, user_id)
    assert [s.id for s in listed] == [newer.id, older.id]
    assert seeded.call(seeded.services.browser.browser_sessions.get, older.id) == listed[1]


@pytest.mark.parametrize("how", ["disable", "delete"])
def test_disabling_or_deleting_the_account_ends_its_sessions(seeded: AuthClient, how: str) -> None:
    user_id = user_id_of(seeded, AGENT_EMAIL)
    session, secret = start(seeded, user_id)
    admin = seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)
    headers = seeded.bearer(admin["access_token"])
    if how == "disable":
        response = seeded.http.post(f"/api/1/admin/users/{user_id}/disable", headers=headers)
        assert response.json()["status"] == "disabled", response.text
        (row,) = fetch(
            seeded, "SELECT ended_at, ended_reason FROM browser_sessions WHERE id = $1", session.id
        )
        assert row["ended_at"] is not None
        seeded.http.post(f"/api/1/admin/users/{user_id}/enable", headers=headers)
    else:
        assert seeded.http.delete(f"/api/1/admin/users/{user_id}", headers=headers).status_code == 204
    assert current(seeded, secret) is None  # re-enabling does not revive it


def cookie_header(cookie: Any) -> str:
    header: str = cookie.to_header(header="")
    return header.strip()


def test_the_cookie_over_https_is_host_prefixed_and_locked_down() -> None:
    cookie = SessionCookie(secure=True, max_age=36000)
    assert cookie.name == "__Host-auth_session"
    header = cookie_header(cookie.set("s" * 43))
    assert header.startswith("__Host-auth_session=" + "s" * 43)
    for attribute in ("HttpOnly", "Path=/", "SameSite=lax", "Secure", "Max-Age=36000"):
        assert attribute.lower() in header.lower(), header
    assert "domain" not in header.lower()
    cleared = cookie_header(cookie.clear())
    assert "max-age=0" in cleared.lower()


def test_the_cookie_over_http_is_not_secure() -> None:
    cookie = SessionCookie(secure=False, max_age=60)
    assert cookie.name == "auth_session"
    header = cookie_header(cookie.set("s" * 43)).lower()
    assert "secure" not in header
    assert "httponly" in header
    assert "samesite=lax" in header


def test_a_login_writes_its_session_with_both_audit_events(seeded: AuthClient) -> None:
    """A login without a session to replace is one statement: the session, ``browser_session.start``
    and ``login``, all three or none."""
    log_in_through(seeded, web_client(seeded, first_party=True).client_id, AGENT_EMAIL, AGENT_PASSWORD)
    (session,) = fetch(seeded, "SELECT id, user_id FROM browser_sessions")
    events = fetch(
        seeded,
        "SELECT action, actor, target_type, target_id, details::text AS details FROM audit_events "
        "WHERE action IN ('browser_session.start', 'login') AND outcome = 'success' ORDER BY id",
    )
    person = str(session["user_id"])
    assert [(e["action"], e["actor"], e["target_type"], e["target_id"]) for e in events] == [
        ("browser_session.start", person, "browser_session", str(session["id"])),
        ("login", person, "user", person),
    ]
    assert str(session["id"]) in events[1]["details"]
