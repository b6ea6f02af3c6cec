"""A passkey as the second factor after the password, and passkeys in the second-factor policy."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.auth_service.conftest import SYSTEM, AuthClient
from tests.auth_service.login.db import execute, fetch
from tests.auth_service.login.flow import REQUEST_INPUT, csrf_of, location, submit_login
from tests.auth_service.passkeys.flow import (
    PASSWORD,
    AccountBrowser,
    authenticator,
    first_party_login_path,
    passkey_rows,
    sign_in,
    tokens_of,
)
from tests.auth_service.passkeys.soft_authenticator import SoftAuthenticator, from_b64url
from tests.auth_service.passkeys.test_passkey_login import enrolled


def second_step(auth: AuthClient, email: str) -> tuple[str, str, httpx.Response]:
    """A password login for a first-party app: its client id, the second step's path and page."""
    client_id, login_path = first_party_login_path(auth)
    answer = submit_login(auth, login_path, email, PASSWORD)
    path = location(answer)
    assert path.startswith("/login/second-factor"), path
    page = auth.http.get(path)
    assert page.status_code == 200, page.text[:500]
    return client_id, path, page


def passkey_answer(
    auth: AuthClient, page: httpx.Response, device: SoftAuthenticator, **tamper: Any
) -> httpx.Response:
    token = csrf_of(page)
    request = REQUEST_INPUT.search(page.text)
    assert request
    options = auth.http.post(
        f"/passkeys/second-factor/options?request={request.group(1)}", headers={"X-CSRFToken": token}
    )
    assert options.status_code == 200, options.text[:300]
    form = {
        "_csrf_token": token,
        "request": request.group(1),
        "credential": json.dumps(device.get(options.json(), **tamper)),
    }
    return auth.http.post("/passkeys/second-factor", data=form, follow_redirects=False)


def test_the_second_step_offers_the_persons_own_passkeys(auth: AuthClient) -> None:
    laptop = authenticator()
    enrolled(auth, laptop)
    _, _, page = second_step(auth, "ana@example.com")
    assert 'action="/passkeys/second-factor"' in page.text
    assert "Use a passkey" in page.text
    request = REQUEST_INPUT.search(page.text)
    assert request
    options = auth.http.post(
        f"/passkeys/second-factor/options?request={request.group(1)}", headers={"X-CSRFToken": csrf_of(page)}
    ).json()
    assert [from_b64url(c["id"]) for c in options["allowCredentials"]] == list(laptop.credentials)
    assert options["userVerification"] == "preferred"


def test_password_then_passkey_is_pwd_hwk_mfa_at_level_2(auth: AuthClient) -> None:
    laptop = authenticator()
    user_id = enrolled(auth, laptop)
    client_id, _, page = second_step(auth, "ana@example.com")
    answer = passkey_answer(auth, page, laptop)
    claims = tokens_of(auth, answer, client_id)
    assert claims["sub"] == user_id
    assert (claims["amr"], claims["acr"]) == (["pwd", "hwk", "mfa"], "2")
    assert passkey_rows(auth)[0]["sign_count"] == 1
    cookies = answer.headers.get_list("set-cookie")
    assert any(c.startswith("auth_second_step=;") or c.startswith('auth_second_step="";') for c in cookies)


def test_another_persons_passkey_is_no_second_factor(auth: AuthClient) -> None:
    ana, bia = authenticator(), authenticator()
    enrolled(auth, ana, "ana@example.com")
    enrolled(auth, bia, "bia@example.com")
    _, _, page = second_step(auth, "ana@example.com")
    (bia_credential,) = bia.credentials
    answer = passkey_answer(auth, page, bia, credential_id=bia_credential)
    assert answer.status_code == 400
    assert "This passkey could not be used" in answer.text
    assert fetch(auth, "SELECT 1 FROM browser_sessions WHERE ended_at IS NULL") == []
    (refusal,) = fetch(
        auth, "SELECT action, details FROM audit_events WHERE action = 'passkey.second_factor'"
    )
    assert json.loads(refusal["details"])["reason"] == "other_user"


def test_without_a_pending_login_there_is_nothing_to_answer(auth: AuthClient) -> None:
    laptop = authenticator()
    enrolled(auth, laptop)
    _, login_path = first_party_login_path(auth)
    page = auth.http.get(login_path)
    refused = auth.http.post("/passkeys/second-factor/options", headers={"X-CSRFToken": csrf_of(page)})
    assert refused.status_code == 401


def test_the_last_factor_a_role_requires_cannot_be_removed(auth: AuthClient) -> None:
    admin = auth.create_user("root@example.com", PASSWORD, ["admin"])
    _, secret = auth.call(
        auth.services.browser.browser_sessions.start,
        admin.id, amr=["pwd", "otp", "mfa"], acr="2", source_ip=None, user_agent=None, replacing=None,
    )  # fmt: skip
    auth.http.cookies.set(auth.services.browser.session_cookie.name, secret)
    account = AccountBrowser(auth)
    account.register(authenticator(), "Only one")
    (row,) = passkey_rows(auth)
    refused = account.remove(str(row["id"]))
    assert refused.status_code == 409
    assert "A role of your account requires a second factor." in refused.text
    assert len(passkey_rows(auth)) == 1
    account.register(authenticator(), "Spare")
    assert account.remove(str(row["id"])).status_code == 303, "not the last one any more"


def test_the_last_factor_removed_takes_the_recovery_codes(auth: AuthClient) -> None:
    user = auth.create_user("ana@example.com", PASSWORD, ["viewer"])
    sign_in(auth, user.id)
    account = AccountBrowser(auth)
    account.register(authenticator())
    assert fetch(auth, "SELECT 1 FROM recovery_code_sets") != []
    (row,) = passkey_rows(auth)
    assert account.remove(str(row["id"])).status_code == 303
    assert fetch(auth, "SELECT 1 FROM recovery_code_sets") == []


def test_passkeys_are_listed_factors_and_an_admin_reset_removes_them(auth: AuthClient) -> None:
    user = auth.create_user("ana@example.com", PASSWORD, ["viewer"])
    sign_in(auth, user.id)
    AccountBrowser(auth).register(authenticator(), "Laptop")
    factors = auth.call(auth.services.browser.factors.admin.of_user, user.id)
    assert [(f.kind, f.name) for f in factors] == [
        ("passkey", "Laptop"),
        ("recovery_codes", "Recovery codes"),
    ]
    reset = auth.call(auth.services.browser.factors.admin.reset, user.id, SYSTEM)
    assert "passkey" in reset.removed
    assert passkey_rows(auth) == []


def test_a_session_from_before_the_first_factor_may_not_add_another(auth: AuthClient) -> None:
    """A password-only session that predates the person's passkey (a thief's, say) is sent to log
    in again (with the second factor) before it may touch the passkeys."""
    user = auth.create_user("ana@example.com", PASSWORD, ["viewer"])
    sign_in(auth, user.id)
    old = auth.http.cookies.get(auth.services.browser.session_cookie.name)
    AccountBrowser(auth).register(authenticator())
    auth.http.cookies.clear()
    auth.http.cookies.set(auth.services.browser.session_cookie.name, old or "")
    execute(auth, "UPDATE browser_sessions SET ended_at = NULL")  # kept alive, as another browser's
    page = AccountBrowser(auth).page()
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?return_to=")
