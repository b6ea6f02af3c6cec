"""When the second factor is asked: a role that requires it (enrolment forced at the next login),
``acr_values=2`` (a step-up that asks only the second factor of a live session), ``prompt=none``
answering ``login_required`` / ``interaction_required``, and ``max_age`` asking both again."""

from __future__ import annotations

import html

import pyotp

from auth_service.audit.service import Actor
from tests.auth_service.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, AGENT_EMAIL, AGENT_PASSWORD, AuthClient
from tests.auth_service.factors.steps import Clock, codes_on, second_step, secret_on, sign_out
from tests.auth_service.login.db import fetch
from tests.auth_service.login.flow import (
    REQUEST_INPUT,
    authorize,
    client_params,
    csrf_of,
    location,
    log_in_through,
    login_required,
    redeem,
    stored_login_path,
    submit_login,
    web_client,
)
from tests.auth_service.test_token_grants import claims_of


def _user_id(auth: AuthClient, email: str) -> object:
    return fetch(auth, "SELECT id FROM users WHERE email = $1", email)[0]["id"]


def _enrol_behind_the_session(auth: AuthClient, email: str, now: float) -> str:
    """TOTP set up through the services (the browser's session stays at level 1): its secret."""
    enrolments, user_id = auth.services.browser.factors.enrolments, _user_id(auth, email)
    enrolment = auth.call(enrolments.begin_totp, user_id, email)
    secret: str = enrolment.secret.replace(" ", "")
    auth.call(enrolments.confirm_totp, user_id, pyotp.TOTP(secret).at(now), Actor(id="test"))
    return secret


def test_a_role_that_requires_mfa_makes_its_holder_enrol_at_login(timed: AuthClient, clock: Clock) -> None:
    client = web_client(timed, first_party=True)
    answer = submit_login(
        timed, login_required(authorize(timed, client.client_id)), ADMIN_EMAIL, ADMIN_PASSWORD
    )
    path = location(answer)
    assert path.startswith("/login/second-factor?request=")
    page = timed.http.get(path)
    assert "Your account needs a second factor" in page.text
    assert 'class="qr-code"' in page.text
    request_id = html.unescape(REQUEST_INPUT.search(page.text).group(1))  # type: ignore[union-attr]
    form = {"_csrf_token": csrf_of(page), "request": request_id}
    wrong = timed.http.post("/login/second-factor/enrol", data={**form, "code": "000000"})
    assert wrong.status_code == 400
    code = pyotp.TOTP(secret_on(wrong)).at(clock.now)
    shown = timed.http.post("/login/second-factor/enrol", data={**form, "code": code}, follow_redirects=False)
    assert shown.status_code == 200
    assert len(codes_on(shown)) == 10, "the recovery codes, shown once before the login goes on"
    going_on = timed.http.post("/login/second-factor/continue", data=form, follow_redirects=False)
    params = client_params(going_on)
    id_token = claims_of(redeem(timed, client.client_id, params["code"]).json()["id_token"])
    assert (id_token["amr"], id_token["acr"]) == (["pwd", "otp", "mfa"], "2")
    again = timed.http.post("/login/second-factor/continue", data=form, follow_redirects=False)
    assert again.status_code == 400, "the pending login is spent"


def test_the_role_policy_is_in_the_roles_api(timed: AuthClient) -> None:
    token = timed.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD, scope="admin:roles")["access_token"]
    roles = {r["name"]: r for r in timed.http.get("/api/1/admin/roles/", headers=timed.bearer(token)).json()}
    assert (roles["admin"]["requires_mfa"], roles["agent"]["requires_mfa"]) == (True, False)
    changed = timed.http.patch(
        "/api/1/admin/roles/agent", json={"requires_mfa": True}, headers=timed.bearer(token)
    )
    assert changed.status_code == 200
    assert changed.json()["requires_mfa"] is True
    client = web_client(timed, first_party=True)
    answer = submit_login(
        timed, login_required(authorize(timed, client.client_id)), AGENT_EMAIL, AGENT_PASSWORD
    )
    assert "Set up two-step verification" in timed.http.get(location(answer)).text
    (event,) = fetch(timed, "SELECT details FROM audit_events WHERE action = 'role.update'")
    assert "requires_mfa" in str(event["details"])


def test_acr_values_2_steps_a_live_session_up_with_the_second_factor_only(
    timed: AuthClient, clock: Clock
) -> None:
    client = web_client(timed, first_party=True)
    first = log_in_through(timed, client.client_id, AGENT_EMAIL, AGENT_PASSWORD)
    assert claims_of(redeem(timed, client.client_id, first["code"]).json()["id_token"])["acr"] == "1"
    secret = _enrol_behind_the_session(timed, AGENT_EMAIL, clock.now)
    path = location(authorize(timed, client.client_id, acr_values="2"))
    assert path.startswith("/login/second-factor?request="), "the second factor only, not the password"
    assert 'type="password"' not in timed.http.get(path).text
    clock.now += 30
    params = client_params(second_step(timed, path, "totp", pyotp.TOTP(secret).at(clock.now)))
    id_token = claims_of(redeem(timed, client.client_id, params["code"]).json()["id_token"])
    assert (id_token["amr"], id_token["acr"]) == (["pwd", "otp", "mfa"], "2")
    sessions = fetch(timed, "SELECT acr, ended_reason FROM browser_sessions ORDER BY created_at")
    assert [(s["acr"], s["ended_reason"]) for s in sessions] == [("1", "replaced"), ("2", None)]
    assert "code" in client_params(authorize(timed, client.client_id, acr_values="2", prompt="none"))


def test_an_old_level_1_session_of_a_person_with_a_factor_is_stepped_up(
    timed: AuthClient, clock: Clock
) -> None:
    client = web_client(timed, first_party=True)
    log_in_through(timed, client.client_id, AGENT_EMAIL, AGENT_PASSWORD)
    _enrol_behind_the_session(timed, AGENT_EMAIL, clock.now)
    assert location(authorize(timed, client.client_id)).startswith("/login/second-factor?request=")
    refused = client_params(authorize(timed, client.client_id, prompt="none"))
    assert refused["error"] == "login_required"


def test_prompt_none_asking_acr_2_of_a_person_without_factor_is_interaction_required(
    timed: AuthClient,
) -> None:
    client = web_client(timed, first_party=True)
    log_in_through(timed, client.client_id, AGENT_EMAIL, AGENT_PASSWORD)
    refused = client_params(authorize(timed, client.client_id, acr_values="2", prompt="none"))
    assert refused["error"] == "interaction_required"
    # without prompt=none: a factor to set up needs a fresh password first
    assert location(authorize(timed, client.client_id, acr_values="2")).startswith("/login?request=")
    # a request naming only levels we do not have asks nothing more
    assert "code" in client_params(authorize(timed, client.client_id, acr_values="urn:other:gold"))


def test_max_age_asks_the_password_and_the_second_factor_again(timed: AuthClient, clock: Clock) -> None:
    client = web_client(timed, first_party=True)
    log_in_through(timed, client.client_id, AGENT_EMAIL, AGENT_PASSWORD)
    secret = _enrol_behind_the_session(timed, AGENT_EMAIL, clock.now)
    login = login_required(authorize(timed, client.client_id, max_age="0"))
    path = location(submit_login(timed, login, AGENT_EMAIL, AGENT_PASSWORD))
    assert path.startswith("/login/second-factor?request=")
    clock.now += 30
    assert "code" in client_params(second_step(timed, path, "totp", pyotp.TOTP(secret).at(clock.now)))


def test_no_second_step_without_a_pending_login_or_a_session(timed: AuthClient) -> None:
    sign_out(timed)
    assert timed.http.get("/login/second-factor").status_code == 400
    client = web_client(timed, first_party=True)
    request_id = stored_login_path(timed, client.client_id).split("request=")[1]
    sent_back = timed.http.get(f"/login/second-factor?request={request_id}", follow_redirects=False)
    assert location(sent_back) == f"/login?request={request_id}"
