"""Assertions that must not log anyone in: wrong origin, RP id or challenge, a replay, a clone,
someone else's credential or handle, no user verification, a removed passkey. Each is the same
error page, and the audit trail says which check stopped it."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.auth_service.conftest import AuthClient
from tests.auth_service.login.db import execute, fetch
from tests.auth_service.passkeys.flow import (
    authenticator,
    first_party_login_path,
    login_options,
    passkey_login,
    passkey_rows,
)
from tests.auth_service.passkeys.soft_authenticator import b64url, from_b64url
from tests.auth_service.passkeys.test_passkey_login import enrolled


def refusals(auth: AuthClient) -> list[dict[str, Any]]:
    rows = fetch(
        auth,
        "SELECT action, target_id, details FROM audit_events WHERE outcome = 'failure' "
        "AND action LIKE 'passkey.%' ORDER BY id",
    )
    return [{**r, "details": json.loads(r["details"])} for r in rows]


def assert_refused(auth: AuthClient, answer: Any) -> None:
    assert answer.status_code == 400, answer.text[:500]
    assert "This passkey could not be used" in answer.text
    assert fetch(auth, "SELECT 1 FROM browser_sessions WHERE ended_at IS NULL") == [], "no session started"


@pytest.mark.parametrize(
    "tamper",
    [
        {"origin": "https://auth.test.evil.example"},
        {"origin": "http://auth.test:8443"},
        {"rp_id": "evil.example"},
        {"challenge": b64url(b"a challenge we never issued 1234")},
    ],
    ids=["phishing-origin", "other-port", "rp-id", "challenge"],
)
def test_a_wrong_origin_rp_id_or_challenge_is_refused(auth: AuthClient, tamper: dict[str, str]) -> None:
    device = authenticator()
    user_id = enrolled(auth, device)
    _, login_path = first_party_login_path(auth)
    assert_refused(auth, passkey_login(auth, login_path, device, **tamper))
    (refusal,) = refusals(auth)
    # A challenge we did not make is refused before any lookup: no account is named.
    owner = None if "challenge" in tamper else user_id
    assert (refusal["action"], refusal["target_id"]) == ("passkey.login", owner)
    assert refusal["details"]["reason"] == "invalid"
    assert passkey_rows(auth)[0]["sign_count"] == 0, "nothing recorded"


@pytest.mark.parametrize("asked", [False, True], ids=["on-the-page", "asked-for"])
def test_a_replayed_assertion_finds_its_challenge_used(auth: AuthClient, asked: bool) -> None:
    """For a /device page (an authorization request would be spent by the first login already);
    the replay comes from another browser (no cookie at all), with a counter that went up."""
    device = authenticator()
    enrolled(auth, device)
    options, form = login_options(auth, "/login?return_to=%2Fdevice", asked=asked)
    data = {**form, "return_to": "/device", "credential": json.dumps(device.get(options))}
    first = auth.http.post("/passkeys/login", data=data, follow_redirects=False)
    assert first.status_code == 303
    execute(auth, "UPDATE browser_sessions SET ended_at = now()")
    auth.http.cookies.clear()
    _, other_form = login_options(auth, "/login?return_to=%2Fdevice")
    replay = {**other_form, "return_to": "/device", "credential": json.dumps(device.get(options))}
    again = auth.http.post("/passkeys/login", data=replay, follow_redirects=False)
    assert_refused(auth, again)
    assert refusals(auth)[-1]["details"] == {
        "reason": "expired",
        "note": "the login challenge was answered before",
    }


def test_an_expired_or_foreign_challenge_is_refused(auth: AuthClient) -> None:
    """Made by us but past the ceremony's lifetime; or made with another key (another
    deployment's page, or a challenge whose MAC was altered)."""
    device = authenticator()
    enrolled(auth, device)
    minted = auth.services.browser.passkeys.login_challenges
    _, login_path = first_party_login_path(auth)
    options, form = login_options(auth, login_path)
    expired = minted.mint(at=time.time() - 301)
    data = {**form, "credential": json.dumps(device.get(options, challenge=b64url(expired)))}
    assert_refused(auth, auth.http.post("/passkeys/login", data=data, follow_redirects=False))
    options, form = login_options(auth, login_path)
    altered = bytearray(from_b64url(options["challenge"]))
    altered[-1] ^= 1
    data = {**form, "credential": json.dumps(device.get(options, challenge=b64url(bytes(altered))))}
    assert_refused(auth, auth.http.post("/passkeys/login", data=data, follow_redirects=False))
    assert [r["details"]["reason"] for r in refusals(auth)] == ["expired", "invalid"]
    assert passkey_rows(auth)[0]["sign_count"] == 0, "nothing recorded"


def test_a_cloned_authenticator_is_refused_and_audited(auth: AuthClient) -> None:
    """Two copies of one key: the original signs up to 5, the clone answers with 3."""
    device = authenticator()
    user_id = enrolled(auth, device)
    _, login_path = first_party_login_path(auth)
    assert passkey_login(auth, login_path, device, sign_count=5).status_code == 303
    auth.http.cookies.clear()
    execute(auth, "UPDATE browser_sessions SET ended_at = now()")
    for count in (3, 5):
        _, login_path = first_party_login_path(auth)
        answer = passkey_login(auth, login_path, device, sign_count=count)
        assert answer.status_code == 400
        assert "This passkey could not be used" in answer.text
    cloned = [r for r in refusals(auth) if r["action"] == "passkey.cloned"]
    assert [(r["target_id"], r["details"]["reason"]) for r in cloned] == [(user_id, "cloned")] * 2
    assert "stored 5" in cloned[0]["details"]["note"]
    assert passkey_rows(auth)[0]["sign_count"] == 5, "the counter never goes back"
    _, login_path = first_party_login_path(auth)
    assert passkey_login(auth, login_path, device, sign_count=6).status_code == 303, "the next count goes on"


def test_no_user_verification_is_no_passwordless_login(auth: AuthClient) -> None:
    device = authenticator()
    enrolled(auth, device)
    device.verifies_user = False
    _, login_path = first_party_login_path(auth)
    assert_refused(auth, passkey_login(auth, login_path, device))
    assert refusals(auth)[-1]["details"]["reason"] == "invalid"


def test_another_persons_user_handle_or_none_is_refused(auth: AuthClient) -> None:
    ana, bia = authenticator(), authenticator()
    enrolled(auth, ana, "ana@example.com")
    enrolled(auth, bia, "bia@example.com")
    (bia_credential,) = bia.credentials.values()
    _, login_path = first_party_login_path(auth)
    assert_refused(auth, passkey_login(auth, login_path, ana, user_handle=bia_credential.user_handle))
    _, login_path = first_party_login_path(auth)
    assert_refused(auth, passkey_login(auth, login_path, ana, user_handle=False))
    assert [r["details"]["reason"] for r in refusals(auth)] == ["other_user", "invalid"]


def test_a_removed_passkey_or_a_disabled_account_logs_nobody_in(auth: AuthClient) -> None:
    device, other = authenticator(), authenticator()
    enrolled(auth, device)
    other.create({"challenge": "AAAA", "rp": {"id": "auth.test"}, "user": {"id": b64url(b"x" * 32)}})
    _, login_path = first_party_login_path(auth)
    assert_refused(auth, passkey_login(auth, login_path, other))
    execute(auth, "UPDATE users SET status = 'disabled'")
    _, login_path = first_party_login_path(auth)
    assert_refused(auth, passkey_login(auth, login_path, device))
    assert [r["details"]["reason"] for r in refusals(auth)] == ["unknown", "unknown"]


@pytest.mark.parametrize(
    "credential",
    ["", "{not json", "[]", '{"id": "x", "rawId": "!!", "response": {}, "type": "public-key"}', "x" * 70_000],
    ids=["empty", "not-json", "array", "garbage-fields", "huge"],
)
def test_a_malformed_answer_is_the_error_page_never_a_500(auth: AuthClient, credential: str) -> None:
    _, login_path = first_party_login_path(auth)
    _, form = login_options(auth, login_path)
    answer = auth.http.post(
        "/passkeys/login", data={**form, "credential": credential}, follow_redirects=False
    )
    assert answer.status_code in (400, 413), answer.text[:300]


def test_the_options_and_the_answer_need_the_csrf_token(auth: AuthClient) -> None:
    _, login_path = first_party_login_path(auth)
    auth.http.get(login_path)
    assert auth.http.post("/passkeys/login/options").status_code == 403
    assert auth.http.post("/passkeys/login", data={"credential": "{}"}).status_code == 403
