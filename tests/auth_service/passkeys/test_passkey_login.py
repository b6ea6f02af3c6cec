"""The passwordless login: a discoverable passkey with user verification, through the login page."""

from __future__ import annotations

import json

import pytest

from tests.auth_service.conftest import AuthClient
from tests.auth_service.login.db import execute, fetch
from tests.auth_service.login.flow import location
from tests.auth_service.passkeys.flow import (
    PASSWORD,
    AccountBrowser,
    authenticator,
    first_party_login_path,
    login_options,
    passkey_login,
    passkey_rows,
    sign_in,
    tokens_of,
)
from tests.auth_service.passkeys.soft_authenticator import SoftAuthenticator, from_b64url


def enrolled(auth: AuthClient, device: SoftAuthenticator, email: str = "ana@example.com") -> str:
    """A person with ``device``'s passkey, signed out again; their id."""
    user = auth.create_user(email, PASSWORD, ["viewer"])
    sign_in(auth, user.id)
    AccountBrowser(auth).register(device)
    auth.http.cookies.clear()
    execute(auth, "UPDATE browser_sessions SET ended_at = now() WHERE ended_at IS NULL")
    return str(user.id)


@pytest.mark.parametrize("asked", [False, True], ids=["on-the-page", "asked-for"])
def test_the_login_options_name_no_credential_and_require_verification(auth: AuthClient, asked: bool) -> None:
    _, login_path = first_party_login_path(auth)
    options, _ = login_options(auth, login_path, asked=asked)
    assert options["rpId"] == "auth.test"
    assert options["allowCredentials"] == []
    assert options["userVerification"] == "required"
    assert options["timeout"] == 300_000
    again, _ = login_options(auth, login_path, asked=asked)
    assert len(from_b64url(options["challenge"])) == 40
    assert again["challenge"] != options["challenge"], "a challenge per page and per ask"
    assert fetch(auth, "SELECT 1 FROM webauthn_challenges") == [], "nothing stored until an answer"
    assert "webauthn=" not in auth.http.cookies, "no ceremony cookie for a login"


def test_fresh_options_asked_for_log_in_too(auth: AuthClient) -> None:
    """What the script does once the page's own options are half their timeout old."""
    device = authenticator()
    enrolled(auth, device)
    client_id, login_path = first_party_login_path(auth)
    options, form = login_options(auth, login_path, asked=True)
    data = {**form, "credential": json.dumps(device.get(options))}
    answer = auth.http.post("/passkeys/login", data=data, follow_redirects=False)
    assert tokens_of(auth, answer, client_id)["amr"] == ["hwk", "mfa"]


def test_a_device_bound_passkey_logs_in_with_hwk_mfa_at_level_2(auth: AuthClient) -> None:
    device = authenticator()
    user_id = enrolled(auth, device)
    client_id, login_path = first_party_login_path(auth)
    answer = passkey_login(auth, login_path, device)
    claims = tokens_of(auth, answer, client_id)
    assert claims["sub"] == user_id
    assert claims["amr"] == ["hwk", "mfa"]
    assert claims["acr"] == "2"
    (session,) = fetch(auth, "SELECT amr, acr FROM browser_sessions WHERE ended_at IS NULL")
    assert (session["amr"], session["acr"]) == (["hwk", "mfa"], "2")
    (row,) = passkey_rows(auth)
    assert row["sign_count"] == 1
    assert row["last_used_at"] is not None
    (event,) = fetch(auth, "SELECT details FROM audit_events WHERE action = 'login'")
    assert json.loads(event["details"])["method"] == "passkey"
    (spent,) = fetch(auth, "SELECT expires_at > now() AS live FROM webauthn_spent_challenges")
    assert spent["live"], "the challenge is kept as spent until it expires"


def test_a_synced_passkey_is_swk_and_its_backup_state_follows(auth: AuthClient) -> None:
    device = authenticator(backup_eligible=True, counts=False)
    enrolled(auth, device)
    assert passkey_rows(auth)[0]["backed_up"] is False
    device.backed_up = True
    client_id, login_path = first_party_login_path(auth)
    claims = tokens_of(auth, passkey_login(auth, login_path, device), client_id)
    assert claims["amr"] == ["swk", "mfa"]
    (row,) = passkey_rows(auth)
    assert (row["backed_up"], row["sign_count"]) == (True, 0)
    auth.http.cookies.clear()
    client_id, login_path = first_party_login_path(auth)
    again = passkey_login(auth, login_path, device)
    assert "code=" in location(again), "a counter that stays 0 is an authenticator that does not count"


def test_a_login_for_a_device_page_returns_there(auth: AuthClient) -> None:
    device = authenticator()
    enrolled(auth, device)
    options, form = login_options(auth, "/login?return_to=%2Fdevice")
    form["return_to"] = "/device"
    answer = auth.http.post(
        "/passkeys/login",
        data={**form, "credential": json.dumps(device.get(options))},
        follow_redirects=False,
    )
    assert location(answer) == "/device"


def test_the_login_page_offers_the_passkey_button_to_the_script_only(auth: AuthClient) -> None:
    _, login_path = first_party_login_path(auth)
    page = auth.http.get(login_path).text
    assert '<script src="/static/passkeys.js?v=' in page
    assert 'data-passkey="get"' in page
    assert "data-passkey-box hidden" in page, "hidden until the script shows it"
    assert "Sign in with a passkey" in page
    script = auth.http.get("/static/passkeys.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
