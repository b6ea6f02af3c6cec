"""Registering passkeys on the account page: options, the stored credential, several per person."""

from __future__ import annotations

import json
import re

from auth_service.passkeys.relying_party import ALGORITHMS
from tests.auth_service.conftest import AuthClient, SettingsFactory, serving
from tests.auth_service.login.db import execute, fetch
from tests.auth_service.passkeys.flow import PASSWORD, AccountBrowser, authenticator, passkey_rows, sign_in
from tests.auth_service.passkeys.soft_authenticator import b64url, from_b64url


def test_the_options_ask_for_a_discoverable_verified_passkey(auth: AuthClient) -> None:
    user = auth.create_user("ana@example.com", PASSWORD, ["viewer"])
    sign_in(auth, user.id)
    options = AccountBrowser(auth).options()
    assert options["rp"] == {"id": "auth.test", "name": "Fintech Auth"}
    assert options["user"]["name"] == "ana@example.com"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none"
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [int(a) for a in ALGORITHMS]
    assert options["excludeCredentials"] == []
    assert len(from_b64url(options["challenge"])) == 32
    handle = from_b64url(options["user"]["id"])
    assert len(handle) == 32
    assert handle != user.id.bytes, "a random handle, never the user id"
    again = AccountBrowser(auth).options()
    assert again["user"]["id"] == options["user"]["id"], "one handle per person"
    assert again["challenge"] != options["challenge"]
    (row,) = fetch(auth, "SELECT count(*) AS n FROM webauthn_challenges")
    assert row["n"] == 1, "a new ceremony of the same browser drops the previous one"


def test_a_registered_passkey_is_stored_and_listed(auth: AuthClient) -> None:
    user = auth.create_user("ana@example.com", PASSWORD, ["viewer"])
    sign_in(auth, user.id)
    account = AccountBrowser(auth)
    device = authenticator(backup_eligible=True, backed_up=True)
    answer = account.register(device, "Work laptop")
    assert answer.status_code == 200, "the first factor: its recovery codes, shown this once"
    assert "Passkey added." in answer.text
    assert "Save your recovery codes" in answer.text
    assert len(re.findall(r"<li><code>[^<]+</code></li>", answer.text)) == 10
    (row,) = passkey_rows(auth)
    (credential,) = device.credentials.values()
    assert row["user_id"] == user.id
    assert row["credential_id"] == credential.credential_id
    assert row["public_key"] == credential.cose_key()
    assert row["sign_count"] == 0
    assert row["transports"] == ["hybrid", "internal"]
    assert str(row["aaguid"]) == "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
    assert (row["backup_eligible"], row["backed_up"], row["name"]) == (True, True, "Work laptop")
    assert row["last_used_at"] is None
    assert fetch(auth, "SELECT 1 FROM webauthn_challenges") == [], "the challenge was used up"
    (session,) = fetch(auth, "SELECT amr, acr FROM browser_sessions WHERE ended_at IS NULL")
    assert (session["amr"], session["acr"]) == (["pwd", "swk", "mfa"], "2"), "renewed at level 2"
    page = account.page().text
    for shown in ("Work laptop", "Synced across your devices", "Not used yet"):
        assert shown in page
    assert "Save your recovery codes" not in page, "never shown again"
    (event,) = fetch(auth, "SELECT actor, details FROM audit_events WHERE action = 'passkey.register'")
    assert event["actor"] == str(user.id)
    assert json.loads(event["details"])["name"] == "Work laptop"
    second = account.register(authenticator())
    assert second.status_code == 303, "no new recovery codes for a second factor"
    assert second.headers["location"] == "/account/passkeys?done=added"


def test_adding_a_passkey_needs_a_recent_login(auth: AuthClient) -> None:
    user = auth.create_user("ana@example.com", PASSWORD, ["viewer"])
    sign_in(auth, user.id)
    account = AccountBrowser(auth)
    options, token = account.options(), account.token()
    execute(auth, "UPDATE browser_sessions SET auth_time = now() - interval '16 minutes'")
    page = account.page().text
    assert "Adding a passkey needs a recent sign-in." in page
    assert 'data-passkey="create"' not in page
    refused = auth.http.post("/account/passkeys/options", headers={"X-CSRFToken": token})
    assert refused.status_code == 401
    form = {"_csrf_token": token, "credential": json.dumps(authenticator().create(options))}
    answer = auth.http.post("/account/passkeys", data=form, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?return_to=%2Faccount%2Fpasskeys"
    assert passkey_rows(auth) == []


def test_several_passkeys_each_excluded_from_the_next_registration(auth: AuthClient) -> None:
    user = auth.create_user("ana@example.com", PASSWORD, ["viewer"])
    sign_in(auth, user.id)
    account = AccountBrowser(auth)
    laptop, phone = authenticator(), authenticator()
    account.register(laptop)
    options = account.options()
    assert [from_b64url(c["id"]) for c in options["excludeCredentials"]] == list(laptop.credentials)
    assert options["excludeCredentials"][0]["transports"] == ["hybrid", "internal"]
    account.add(phone.create(options))
    assert [r["name"] for r in passkey_rows(auth)] == ["Passkey", "Passkey 2"], "default names, unique"


def test_the_same_credential_twice_is_refused(auth: AuthClient) -> None:
    """A browser honours excludeCredentials; one that does not still cannot register it twice."""
    user = auth.create_user("ana@example.com", PASSWORD, ["viewer"])
    sign_in(auth, user.id)
    account = AccountBrowser(auth)
    device = authenticator()
    first = device.create(account.options())
    account.add(first)
    replayed = first | {"response": {**first["response"]}}
    options = account.options()
    client_data = json.loads(from_b64url(first["response"]["clientDataJSON"]))
    client_data["challenge"] = options["challenge"]
    replayed["response"]["clientDataJSON"] = b64url(json.dumps(client_data).encode())
    answer = account.add(replayed)
    assert answer.status_code == 409
    assert "This passkey is registered already." in answer.text
    assert len(passkey_rows(auth)) == 1


def test_the_limit_of_passkeys(make_settings: SettingsFactory) -> None:
    with serving(make_settings(webauthn_max_passkeys=2)) as auth:
        user = auth.create_user("ana@example.com", PASSWORD, ["viewer"])
        sign_in(auth, user.id)
        account = AccountBrowser(auth)
        account.register(authenticator())
        account.register(authenticator())
        page = account.page().text
        assert "You have as many passkeys as an account may hold." in page
        assert 'data-passkey="create"' not in page, "no add form when full"
        refused = auth.http.post("/account/passkeys/options", headers={"X-CSRFToken": account.token()})
        assert refused.status_code == 409
        assert len(passkey_rows(auth)) == 2


def test_a_registration_needs_user_verification_and_our_origin(auth: AuthClient) -> None:
    user = auth.create_user("ana@example.com", PASSWORD, ["viewer"])
    sign_in(auth, user.id)
    account = AccountBrowser(auth)
    cases = [
        (authenticator(verifies_user=False), {}),
        (authenticator(), {"origin": "https://evil.example"}),
        (authenticator(), {"rp_id": "evil.example"}),
    ]
    for device, tamper in cases:
        answer = account.add(device.create(account.options(), **tamper))
        assert answer.status_code == 400, tamper
        assert "The passkey could not be added." in answer.text
    assert passkey_rows(auth) == []
    reasons = fetch(
        auth, "SELECT details FROM audit_events WHERE action = 'passkey.register' AND outcome = 'failure'"
    )
    assert [json.loads(r["details"])["reason"] for r in reasons] == ["invalid"] * 3


def test_a_challenge_of_another_session_or_none_is_refused(auth: AuthClient) -> None:
    """The registration's challenge is bound to the browser (ceremony cookie) and its session."""
    ana = auth.create_user("ana@example.com", PASSWORD, ["viewer"])
    sign_in(auth, ana.id)
    account = AccountBrowser(auth)
    options = account.options()
    sign_in(auth, ana.id)  # a new session of the same person in this browser
    assert account.add(authenticator().create(options)).status_code == 400
    options = account.options()
    auth.http.cookies.delete("webauthn")
    assert account.add(authenticator().create(options)).status_code == 400, "no ceremony cookie"
    assert account.add("{not json").status_code == 400, "malformed: a page, never a 500"
    assert passkey_rows(auth) == []


def test_without_a_session_the_page_and_its_options_need_a_login(auth: AuthClient) -> None:
    account = AccountBrowser(auth)
    page = account.page()
    assert page.status_code == 303
    assert page.headers["location"] == "/login?return_to=%2Faccount%2Fpasskeys"
    login = auth.http.get(page.headers["location"])
    assert login.status_code == 200, "the login page comes back here"
