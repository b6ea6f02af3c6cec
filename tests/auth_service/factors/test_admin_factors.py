"""An admin sees a person's factors (never a secret) and resets them: every factor gone, every
session ended, audited, noticed; the next login asks the password only (or enrolment)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pyotp

from auth_service.account_wiring import build_second_factors
from auth_service.audit.service import Actor
from auth_service.keys.service import key_encryption_key
from auth_service.revocations.service import Revoker
from auth_service.tokens.sessions import SessionService
from shared.db.pool import Connection
from tests.auth_service.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, AGENT_EMAIL, AGENT_PASSWORD, AuthClient
from tests.auth_service.factors.steps import Clock, enrol_totp, sign_in_to_account, sign_out
from tests.auth_service.login.db import fetch
from tests.auth_service.login.flow import authorize, location, login_required, submit_login, web_client


def _agent(auth: AuthClient) -> UUID:
    user_id: UUID = fetch(auth, "SELECT id FROM users WHERE email = $1", AGENT_EMAIL)[0]["id"]
    return user_id


def _admin_token(auth: AuthClient) -> dict[str, str]:
    return auth.bearer(auth.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD, scope="admin:users")["access_token"])


def test_an_admin_lists_and_resets_a_persons_factors(timed: AuthClient, clock: Clock) -> None:
    sign_in_to_account(timed, AGENT_EMAIL, AGENT_PASSWORD)
    enrolled = enrol_totp(timed, AGENT_PASSWORD, clock.now)
    headers, user_id = _admin_token(timed), _agent(timed)
    listed = timed.http.get(f"/api/1/admin/users/{user_id}/factors", headers=headers)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [(f["kind"], f["remaining"]) for f in body] == [("totp", None), ("recovery_codes", 10)]
    assert body[0]["created_at"]
    assert body[0]["last_used_at"]
    assert enrolled.secret not in listed.text
    assert enrolled.recovery_codes[0] not in listed.text
    reset = timed.http.delete(f"/api/1/admin/users/{user_id}/factors", headers=headers)
    assert reset.status_code == 200, reset.text
    assert reset.json() == {"removed": ["totp", "recovery_codes"]}
    assert timed.http.get(f"/api/1/admin/users/{user_id}/factors", headers=headers).json() == []
    live = fetch(
        timed, "SELECT count(*) AS n FROM browser_sessions WHERE user_id = $1 AND ended_at IS NULL", user_id
    )
    assert live == [{"n": 0}], "every session of the person ended"
    assert timed.http.get("/account", follow_redirects=False).status_code == 303, "this browser's too"
    (event,) = fetch(timed, "SELECT actor, details FROM audit_events WHERE action = 'mfa.reset'")
    assert "totp" in str(event["details"])
    sign_out(timed)
    client = web_client(timed, first_party=True)
    answer = submit_login(
        timed, login_required(authorize(timed, client.client_id)), AGENT_EMAIL, AGENT_PASSWORD
    )
    assert "code=" in location(answer), "the password alone again"


def test_an_unknown_user_is_a_404(timed: AuthClient) -> None:
    headers = _admin_token(timed)
    missing = "00000000-0000-4000-8000-000000000000"
    assert timed.http.get(f"/api/1/admin/users/{missing}/factors", headers=headers).status_code == 404
    assert timed.http.delete(f"/api/1/admin/users/{missing}/factors", headers=headers).status_code == 404


def test_reset_needs_admin_users_and_powers_over_the_account(timed: AuthClient) -> None:
    admin_id = fetch(timed, "SELECT id FROM users WHERE email = $1", ADMIN_EMAIL)[0]["id"]
    roles_only = timed.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD, scope="admin:roles")["access_token"]
    refused = timed.http.delete(f"/api/1/admin/users/{admin_id}/factors", headers=timed.bearer(roles_only))
    assert refused.status_code == 403


class RecordingNotices:
    def __init__(self) -> None:
        self.sent: list[tuple[UUID, str]] = []

    async def enqueue(self, conn: Connection, user_id: UUID, kind: str) -> None:
        assert conn.is_in_transaction(), "queued in the change's own transaction"
        self.sent.append((user_id, kind))


def test_every_change_tells_the_notice_hook(timed: AuthClient, clock: Clock) -> None:
    services, notices = timed.services, RecordingNotices()
    kek = key_encryption_key(services.settings.keys)
    sessions = SessionService(services.pool, Revoker(lambda: 300), services.audit)
    built = build_second_factors(
        services.settings,
        services.pool,
        services.audit,
        kek,
        services.throttles,
        sessions,
        notices,
        clock=clock,
    )
    user_id, actor = _agent(timed), Actor(id="test")
    enrolment = timed.call(built.enrolments.begin_totp, user_id, AGENT_EMAIL)
    code = pyotp.TOTP(enrolment.secret.replace(" ", "")).at(clock.now)
    codes: Any = timed.call(built.enrolments.confirm_totp, user_id, code, actor)
    timed.call(built.factors.use_recovery_code, user_id, codes[0], actor)
    timed.call(built.enrolments.regenerate_recovery_codes, user_id, actor)
    timed.call(built.admin.reset, user_id, Actor(id="operator"))
    kinds = [kind for who, kind in notices.sent if who == user_id]
    assert kinds == ["factor_added", "recovery_code_used", "recovery_codes_regenerated", "factors_reset"]
