"""TOTP end to end through the pages: enrolment on the account page, the login's second step,
replay, guessing until the lockout, recovery codes, and what the tokens then say."""

from __future__ import annotations

import pyotp

from tests.auth_service.conftest import AGENT_EMAIL, AGENT_PASSWORD, AuthClient
from tests.auth_service.factors.steps import (
    Clock,
    Enrolled,
    enrol_totp,
    second_step,
    sign_in_to_account,
    sign_out,
)
from tests.auth_service.login.db import fetch
from tests.auth_service.login.flow import (
    authorize,
    client_params,
    location,
    login_required,
    redeem,
    submit_login,
    web_client,
)
from tests.auth_service.test_token_grants import claims_of


def _enrolled_agent(auth: AuthClient, clock: Clock) -> Enrolled:
    sign_in_to_account(auth, AGENT_EMAIL, AGENT_PASSWORD)
    enrolled = enrol_totp(auth, AGENT_PASSWORD, clock.now)
    sign_out(auth)
    return enrolled


def _second_step_path(auth: AuthClient, client_id: str) -> str:
    """A fresh login for ``client_id`` up to the second-step page."""
    answer = submit_login(auth, login_required(authorize(auth, client_id)), AGENT_EMAIL, AGENT_PASSWORD)
    path = location(answer)
    assert path.startswith("/login/second-factor?request="), path
    return path


def test_enrolment_shows_a_qr_code_and_the_secret_and_seals_it(timed: AuthClient, clock: Clock) -> None:
    page = sign_in_to_account(timed, AGENT_EMAIL, AGENT_PASSWORD)
    assert "Set up an authenticator app" in page.text
    setup = timed.http.get("/account/totp")
    assert '<svg viewBox="0 0 ' in setup.text
    assert 'class="qr-code"' in setup.text
    assert "<title>" in setup.text
    assert setup.headers["cache-control"] == "no-store"
    enrolled = enrol_totp(timed, AGENT_PASSWORD, clock.now)
    assert len(enrolled.recovery_codes) == 10
    assert len(set(enrolled.recovery_codes)) == 10
    (row,) = fetch(timed, "SELECT sealed_secret, confirmed, last_used_step FROM totp_credentials")
    assert row["confirmed"]
    assert row["last_used_step"] == int(clock.now // 30)
    raw = pyotp.TOTP(enrolled.secret).byte_secret()
    assert raw not in row["sealed_secret"]  # sealed, not stored
    digests = fetch(timed, "SELECT digest FROM recovery_codes WHERE used_at IS NULL")
    assert len(digests) == 10
    assert not any(
        code.replace("-", "").encode() in d["digest"] for code in enrolled.recovery_codes for d in digests
    )
    # the enrolment renewed this browser's session: it has just seen both factors
    (session,) = fetch(timed, "SELECT amr, acr FROM browser_sessions WHERE ended_at IS NULL")
    assert (session["amr"], session["acr"]) == (["pwd", "otp", "mfa"], "2")
    account = timed.http.get("/account")
    assert "On since" in account.text
    assert "10 of 10 unused codes left." in account.text
    events = fetch(timed, "SELECT action FROM audit_events WHERE action LIKE 'mfa.%'")
    assert [e["action"] for e in events] == ["mfa.totp_enrol"]


def test_a_wrong_first_code_or_password_confirms_nothing(timed: AuthClient, clock: Clock) -> None:
    sign_in_to_account(timed, AGENT_EMAIL, AGENT_PASSWORD)
    setup = timed.http.get("/account/totp")
    from tests.auth_service.factors.steps import post_form, secret_on

    secret = secret_on(setup)
    wrong_code = post_form(timed, setup, "/account/totp", code="000000", password=AGENT_PASSWORD)
    assert wrong_code.status_code == 400
    assert 'aria-describedby="setup_code_error"' in wrong_code.text
    right_code = pyotp.TOTP(secret).at(clock.now)
    wrong_password = post_form(timed, setup, "/account/totp", code=right_code, password="not it at all")
    assert wrong_password.status_code == 400
    assert secret_on(wrong_password) == secret  # the same secret while the enrolment is fresh
    assert fetch(timed, "SELECT confirmed FROM totp_credentials") == [{"confirmed": False}]


def test_login_with_totp_carries_otp_and_acr_2(timed: AuthClient, clock: Clock) -> None:
    enrolled = _enrolled_agent(timed, clock)
    client = web_client(timed, first_party=True)
    live = "SELECT count(*) AS n FROM browser_sessions WHERE ended_at IS NULL"
    before = fetch(timed, live)
    path = _second_step_path(timed, client.client_id)
    assert fetch(timed, live) == before, "the password alone started no session"
    assert "auth_session" not in timed.http.cookies
    assert "auth_second_step" in timed.http.cookies
    page = timed.http.get(path)
    assert 'autocomplete="one-time-code"' in page.text
    assert 'type="password"' not in page.text
    clock.now += 60
    wrong = second_step(timed, path, "totp", "123456")
    assert wrong.status_code == 400
    assert 'aria-invalid="true"' in wrong.text
    assert "totp_error" in wrong.text
    params = client_params(second_step(timed, path, "totp", enrolled.code(clock.now)))
    token = redeem(timed, client.client_id, params["code"])
    assert token.status_code == 200, token.text
    id_token = claims_of(token.json()["id_token"])
    assert (id_token["amr"], id_token["acr"]) == (["pwd", "otp", "mfa"], "2")
    # single sign-on at level 2 asks nothing more
    again = client_params(authorize(timed, client.client_id, acr_values="2"))
    assert "code" in again


def test_a_code_is_refused_once_used_in_its_window(timed: AuthClient, clock: Clock) -> None:
    enrolled = _enrolled_agent(timed, clock)
    client = web_client(timed, first_party=True)
    clock.now += 30
    code = enrolled.code(clock.now)
    assert "code" in client_params(
        second_step(timed, _second_step_path(timed, client.client_id), "totp", code)
    )
    sign_out(timed)
    replay = second_step(timed, _second_step_path(timed, client.client_id), "totp", code)
    assert replay.status_code == 400
    earlier = second_step(
        timed, _second_step_path(timed, client.client_id), "totp", enrolled.code(clock.now, -1)
    )
    assert earlier.status_code == 400, "a step before the last one used is refused too"
    clock.now += 30
    assert "code" in client_params(
        second_step(timed, _second_step_path(timed, client.client_id), "totp", enrolled.code(clock.now))
    )


def test_guessing_locks_the_second_step_even_for_the_right_code(timed: AuthClient, clock: Clock) -> None:
    enrolled = _enrolled_agent(timed, clock)
    client = web_client(timed, first_party=True)
    path = _second_step_path(timed, client.client_id)
    clock.now += 30
    for guess in ("111111", "222222", "333333"):  # the threshold is 3 in this fixture
        assert second_step(timed, path, "totp", guess).status_code == 400
    locked = second_step(timed, path, "totp", enrolled.code(clock.now))
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 1
    assert "Too many attempts" in locked.text
    recovery = second_step(timed, path, "recovery_codes", enrolled.recovery_codes[0])
    assert recovery.status_code == 429, "recovery codes share the lock"
    failures = fetch(timed, "SELECT count(*) AS n FROM audit_events WHERE action = 'mfa.verify'")
    assert failures == [{"n": 3}]
    # the password lockout is another: the same person's password still works
    sign_out(timed)
    answer = submit_login(
        timed, login_required(authorize(timed, client.client_id)), AGENT_EMAIL, AGENT_PASSWORD
    )
    assert location(answer).startswith("/login/second-factor?")


def test_a_recovery_code_works_once_and_says_mfa_without_otp(timed: AuthClient, clock: Clock) -> None:
    enrolled = _enrolled_agent(timed, clock)
    client = web_client(timed, first_party=True)
    code = enrolled.recovery_codes[3].upper().replace("-", " ")  # case and separators do not matter
    params = client_params(
        second_step(timed, _second_step_path(timed, client.client_id), "recovery_codes", code)
    )
    id_token = claims_of(redeem(timed, client.client_id, params["code"]).json()["id_token"])
    assert (id_token["amr"], id_token["acr"]) == (["pwd", "mfa"], "2")
    (used,) = fetch(timed, "SELECT details FROM audit_events WHERE action = 'mfa.recovery_code_used'")
    assert '"remaining": 9' in str(used["details"]) or used["details"] == {"remaining": 9}
    sign_out(timed)
    again = second_step(timed, _second_step_path(timed, client.client_id), "recovery_codes", code)
    assert again.status_code == 400
    assert fetch(timed, "SELECT count(*) AS n FROM recovery_codes WHERE used_at IS NOT NULL") == [{"n": 1}]
