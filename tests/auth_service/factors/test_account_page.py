"""The account page behind the browser session: password, TOTP removal (proof required), recovery
codes, own sessions and consents; in both languages, with CSRF on every form."""

from __future__ import annotations

import pyotp

from auth_service.oidc.assurance import ACR_ONE_FACTOR, AMR_PASSWORD
from tests.auth_service.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, AGENT_EMAIL, AGENT_PASSWORD, AuthClient
from tests.auth_service.factors.steps import (
    Clock,
    codes_on,
    enrol_totp,
    post_form,
    second_step,
    secret_on,
    sign_in_to_account,
)
from tests.auth_service.login.db import fetch
from tests.auth_service.login.flow import (
    authorize,
    client_params,
    csrf_of,
    location,
    log_in_through,
    login_required,
    submit_login,
    web_client,
)

NEW_PASSWORD = "a brand new passphrase for the account 9"


def test_without_a_session_the_account_page_goes_through_the_login(timed: AuthClient) -> None:
    answer = timed.http.get("/account", follow_redirects=False)
    assert location(answer) == "/login?return_to=%2Faccount"
    page = timed.http.get("/account/totp", follow_redirects=False)
    assert location(page) == "/login?return_to=%2Faccount"
    assert timed.http.post("/account/password", data={}, follow_redirects=False).status_code == 403  # CSRF


def test_change_password_checks_the_current_one_and_signs_other_browsers_out(timed: AuthClient) -> None:
    user_id = fetch(timed, "SELECT id FROM users WHERE email = $1", AGENT_EMAIL)[0]["id"]
    timed.call(
        timed.services.browser.browser_sessions.start, user_id, amr=[AMR_PASSWORD], acr=ACR_ONE_FACTOR,
        source_ip=None, user_agent="another browser", replacing=None,
    )  # fmt: skip
    page = sign_in_to_account(timed, AGENT_EMAIL, AGENT_PASSWORD)
    assert "another browser" in page.text
    assert "This browser" in page.text
    wrong = post_form(timed, page, "/account/password", current_password="nope", new_password=NEW_PASSWORD)
    assert wrong.status_code == 400
    assert 'aria-describedby="password_error"' in wrong.text
    weak = post_form(
        timed, page, "/account/password", current_password=AGENT_PASSWORD, new_password="password"
    )
    assert weak.status_code == 400
    assert "too weak" in weak.text
    done = post_form(
        timed, page, "/account/password", current_password=AGENT_PASSWORD, new_password=NEW_PASSWORD
    )
    assert location(done) == "/account?done=password_changed"
    after = timed.http.get(location(done))
    assert "Every other browser was signed out." in after.text
    assert "another browser" not in after.text
    assert timed.login(AGENT_EMAIL, NEW_PASSWORD)["access_token"]


def test_removing_totp_needs_a_fresh_code_or_the_password(timed: AuthClient, clock: Clock) -> None:
    page = sign_in_to_account(timed, AGENT_EMAIL, AGENT_PASSWORD)
    enrolled = enrol_totp(timed, AGENT_PASSWORD, clock.now)
    page = timed.http.get("/account")
    refused = post_form(timed, page, "/account/totp/remove", code="", password="not the password")
    assert refused.status_code == 400
    assert "That code or password is not correct." in refused.text
    replayed = post_form(timed, page, "/account/totp/remove", code=enrolled.code(clock.now), password="")
    assert replayed.status_code == 400, "the enrolment's own code is used already"
    clock.now += 30
    removed = post_form(timed, page, "/account/totp/remove", code=enrolled.code(clock.now), password="")
    assert location(removed) == "/account?done=totp_removed"
    assert fetch(timed, "SELECT count(*) AS n FROM totp_credentials") == [{"n": 0}]
    assert fetch(timed, "SELECT count(*) AS n FROM recovery_codes") == [{"n": 0}], (
        "no factor, no way back to one"
    )
    assert "Set up an authenticator app" in timed.http.get("/account").text


def test_a_role_that_requires_mfa_keeps_the_last_factor(timed: AuthClient, clock: Clock) -> None:
    client = web_client(timed, first_party=True)
    path = location(submit_login(timed, "/login?return_to=%2Faccount", ADMIN_EMAIL, ADMIN_PASSWORD))
    assert path == "/login/second-factor", "the admin must enrol before the account page opens"
    setup = timed.http.get(path)
    code = pyotp.TOTP(secret_on(setup)).at(clock.now)
    shown = timed.http.post(
        "/login/second-factor/enrol",
        data={"_csrf_token": csrf_of(setup), "code": code},
        follow_redirects=False,
    )
    assert len(codes_on(shown)) == 10
    going_on = timed.http.post(
        "/login/second-factor/continue", data={"_csrf_token": csrf_of(setup)}, follow_redirects=False
    )
    assert location(going_on) == "/account"
    page = timed.http.get("/account")
    refused = post_form(timed, page, "/account/totp/remove", code="", password=ADMIN_PASSWORD)
    assert refused.status_code == 400
    assert "requires a second factor" in refused.text
    assert "code" in client_params(authorize(timed, client.client_id))


def test_new_recovery_codes_replace_the_old_ones(timed: AuthClient, clock: Clock) -> None:
    sign_in_to_account(timed, AGENT_EMAIL, AGENT_PASSWORD)
    enrolled = enrol_totp(timed, AGENT_PASSWORD, clock.now)
    page = timed.http.get("/account")
    renewed = post_form(timed, page, "/account/recovery-codes", code="", password=AGENT_PASSWORD)
    assert renewed.status_code == 200
    fresh = codes_on(renewed)
    assert len(fresh) == 10
    assert not set(fresh) & set(enrolled.recovery_codes)
    timed.http.cookies.clear()
    client = web_client(timed, first_party=True)
    path = location(
        submit_login(timed, login_required(authorize(timed, client.client_id)), AGENT_EMAIL, AGENT_PASSWORD)
    )
    assert second_step(timed, path, "recovery_codes", enrolled.recovery_codes[0]).status_code == 400
    assert "code" in client_params(second_step(timed, path, "recovery_codes", fresh[0]))


def test_a_person_ends_their_own_sessions_and_consents_only(timed: AuthClient) -> None:
    third_party = web_client(timed)
    log_in_through(timed, third_party.client_id, AGENT_EMAIL, AGENT_PASSWORD)
    admin_id = fetch(timed, "SELECT id FROM users WHERE email = $1", ADMIN_EMAIL)[0]["id"]
    others, _ = timed.call(
        timed.services.browser.browser_sessions.start, admin_id, amr=[AMR_PASSWORD], acr=ACR_ONE_FACTOR,
        source_ip=None, user_agent=None, replacing=None,
    )  # fmt: skip
    page = timed.http.get("/account")
    assert "Budget App" in page.text
    not_mine = post_form(timed, page, "/account/sessions/end", session=str(others.id))
    assert location(not_mine) == "/account?done=nothing_changed"
    assert (
        fetch(timed, "SELECT ended_at FROM browser_sessions WHERE id = $1", others.id)[0]["ended_at"] is None
    )
    revoked = post_form(timed, page, "/account/consents/revoke", client_id=third_party.client_id)
    assert location(revoked) == "/account?done=consent_revoked"
    assert fetch(timed, "SELECT count(*) AS n FROM consents") == [{"n": 0}]
    assert "You have not allowed any app yet." in timed.http.get("/account").text


def test_the_account_page_in_portuguese(timed: AuthClient) -> None:
    sign_in_to_account(timed, AGENT_EMAIL, AGENT_PASSWORD)
    page = timed.http.get("/account?ui_locales=pt-BR")
    assert page.headers["content-language"] == "pt-BR"
    assert "Sua conta" in page.text
    assert "Configurar um aplicativo autenticador" in page.text
