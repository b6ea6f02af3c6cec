"""The code flow through the pages: login, consent, code; SSO; prompt, max_age; the code redeems."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.auth_service.conftest import AGENT_EMAIL, AGENT_PASSWORD, AuthClient, SettingsFactory, serving
from tests.auth_service.login.db import execute, fetch
from tests.auth_service.login.flow import (
    REDIRECT_URI,
    authorize,
    client_params,
    csrf_of,
    location,
    log_in_through,
    login_required,
    redeem,
    submit_consent,
    submit_login,
    web_client,
)
from tests.auth_service.passkeys.flow import PAGE_OPTIONS
from tests.auth_service.test_token_grants import claims_of


def test_login_consent_code_token_then_sso(seeded: AuthClient) -> None:
    client = web_client(seeded)
    login_page = login_required(authorize(seeded, client.client_id))
    assert fetch(seeded, "SELECT 1 FROM authorization_requests") == []  # the form carries the request
    consent_path = location(submit_login(seeded, login_page, AGENT_EMAIL, AGENT_PASSWORD))
    assert consent_path.startswith("/consent?request=")
    params = client_params(submit_consent(seeded, consent_path, "allow"))
    assert params["state"] == "st-123"
    assert params["iss"] == "http://auth.test"
    assert len(params["code"]) == 43
    token = redeem(seeded, client.client_id, params["code"])
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["scope"] == "customers:read openid"
    (session,) = fetch(seeded, "SELECT id FROM browser_sessions WHERE ended_at IS NULL")
    (family,) = fetch(seeded, "SELECT browser_session_id FROM refresh_families")
    assert family["browser_session_id"] == session["id"]  # the family is tied to the SSO session
    assert claims_of(body["access_token"])["sub"] == str(
        fetch(seeded, "SELECT id FROM users WHERE email = $1", AGENT_EMAIL)[0]["id"]
    )
    # SSO: a second request with the session cookie skips the login, and the remembered consent
    again = client_params(authorize(seeded, client.client_id, state="second"))
    assert set(again) == {"code", "state", "iss"}
    assert again["state"] == "second"
    assert redeem(seeded, client.client_id, again["code"]).status_code == 200
    # the request id is spent once answered: replaying the consent page finds nothing
    replay = seeded.http.get(consent_path)
    assert replay.status_code == 400
    assert "expired" in replay.text


def test_a_first_party_app_asks_no_consent(seeded: AuthClient) -> None:
    client = web_client(seeded, first_party=True)
    answer = submit_login(
        seeded, login_required(authorize(seeded, client.client_id)), AGENT_EMAIL, AGENT_PASSWORD
    )
    assert "code" in client_params(answer)


def test_deny_is_access_denied_at_the_app(seeded: AuthClient) -> None:
    client = web_client(seeded)
    answer = submit_login(
        seeded, login_required(authorize(seeded, client.client_id)), AGENT_EMAIL, AGENT_PASSWORD
    )
    params = client_params(submit_consent(seeded, location(answer), "deny"))
    assert params["error"] == "access_denied"
    assert params["state"] == "st-123"
    assert "code" not in params
    assert fetch(seeded, "SELECT 1 FROM consents") == []


def test_prompt_none_without_a_session_is_login_required(seeded: AuthClient) -> None:
    client = web_client(seeded)
    params = client_params(authorize(seeded, client.client_id, prompt="none"))
    assert params == {
        "error": "login_required",
        "error_description": params["error_description"],
        "state": "st-123",
        "iss": "http://auth.test",
    }


def test_prompt_none_without_consent_is_consent_required(seeded: AuthClient) -> None:
    first_party = web_client(seeded, first_party=True)
    log_in_through(seeded, first_party.client_id, AGENT_EMAIL, AGENT_PASSWORD)
    third_party = web_client(seeded)
    params = client_params(authorize(seeded, third_party.client_id, prompt="none"))
    assert params["error"] == "consent_required"
    # once allowed, prompt=none answers with a code
    log_in_through(seeded, third_party.client_id, AGENT_EMAIL, AGENT_PASSWORD)
    assert "code" in client_params(authorize(seeded, third_party.client_id, prompt="none"))
    # asking for more than was allowed needs consent again
    wider = client_params(
        authorize(seeded, third_party.client_id, prompt="none", scope="openid customers:write")
    )
    assert wider["error"] == "consent_required"


@pytest.mark.parametrize("params", [{"prompt": "login"}, {"max_age": "0"}])
def test_prompt_login_and_max_age_zero_force_a_new_login(seeded: AuthClient, params: dict[str, str]) -> None:
    client = web_client(seeded, first_party=True)
    log_in_through(seeded, client.client_id, AGENT_EMAIL, AGENT_PASSWORD)
    login_page = login_required(authorize(seeded, client.client_id, **params))
    assert "code" in client_params(submit_login(seeded, login_page, AGENT_EMAIL, AGENT_PASSWORD))
    sessions = fetch(seeded, "SELECT ended_reason FROM browser_sessions ORDER BY created_at")
    assert [s["ended_reason"] for s in sessions] == ["replaced", None]  # a new session each login


def test_max_age_is_measured_from_the_login(seeded: AuthClient) -> None:
    client = web_client(seeded, first_party=True)
    log_in_through(seeded, client.client_id, AGENT_EMAIL, AGENT_PASSWORD)
    assert "code" in client_params(authorize(seeded, client.client_id, max_age="3600"))
    execute(seeded, "UPDATE browser_sessions SET auth_time = now() - interval '2 hours'")
    login_required(authorize(seeded, client.client_id, max_age="3600"))


def test_an_ended_sessions_cookie_no_longer_skips_the_login(seeded: AuthClient) -> None:
    client = web_client(seeded, first_party=True)
    log_in_through(seeded, client.client_id, AGENT_EMAIL, AGENT_PASSWORD)
    execute(seeded, "UPDATE browser_sessions SET ended_at = now(), ended_reason = 'logout'")
    login_required(authorize(seeded, client.client_id))
    assert client_params(authorize(seeded, client.client_id, prompt="none"))["error"] == "login_required"


def test_form_post_answers_with_a_self_submitting_form(seeded: AuthClient) -> None:
    client = web_client(seeded, first_party=True)
    log_in_through(seeded, client.client_id, AGENT_EMAIL, AGENT_PASSWORD)
    page = authorize(seeded, client.client_id, response_mode="form_post", state="<b>st</b>")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert f'method="post" action="{REDIRECT_URI}"' in page.text
    assert 'name="state" value="&lt;b&gt;st&lt;/b&gt;"' in page.text  # escaped, not markup
    assert 'name="iss" value="http://auth.test"' in page.text
    assert 'name="code" value="' in page.text
    assert '<script src="/static/form_post.js?v=' in page.text
    assert "<script>" not in page.text
    assert "form-action 'self' https://app.example;" in page.headers["content-security-policy"]
    assert seeded.http.get("/static/form_post.js").status_code == 200


def test_login_hint_and_ui_locales(seeded: AuthClient) -> None:
    client = web_client(seeded)
    page = login_required(
        authorize(seeded, client.client_id, login_hint="agent.smith@example.com", ui_locales="pt-BR")
    )
    assert page.headers["content-language"] == "pt-BR"
    assert '<html lang="pt-BR">' in page.text
    assert 'value="agent.smith@example.com"' in page.text
    assert "para continuar em Budget App" in page.text
    consent = seeded.http.get(location(submit_login(seeded, page, AGENT_EMAIL, AGENT_PASSWORD)))
    assert "Budget App quer acessar a sua conta." in consent.text
    assert "Ver os cadastros de clientes" in consent.text
    assert "Saber quem você é" in consent.text


def test_the_login_forms_language_links_ask_the_authorization_endpoint_again(seeded: AuthClient) -> None:
    client = web_client(seeded)
    page = login_required(authorize(seeded, client.client_id, ui_locales="en", resource="customers"))
    link = html.unescape(re.search(r'href="([^"]+)" lang="pt-BR"', page.text).group(1))  # type: ignore[union-attr]
    assert link.startswith("/oauth/authorize?")
    asked = parse_qs(urlsplit(link).query)
    assert asked["ui_locales"] == ["pt-BR"]
    assert (asked["client_id"], asked["state"], asked["resource"]) == (
        [client.client_id],
        ["st-123"],
        ["customers"],
    )
    again = login_required(seeded.http.get(link))
    assert again.headers["content-language"] == "pt-BR"
    assert "para continuar em Budget App" in again.text
    assert fetch(seeded, "SELECT 1 FROM authorization_requests") == []
    consent = location(submit_login(seeded, again, AGENT_EMAIL, AGENT_PASSWORD))
    assert "Budget App quer acessar a sua conta." in seeded.http.get(consent).text


def test_wrong_credentials_are_one_generic_error(seeded: AuthClient) -> None:
    client = web_client(seeded)
    login_path = login_required(authorize(seeded, client.client_id))
    pages = [
        submit_login(seeded, login_path, AGENT_EMAIL, "wrong password, surely"),
        submit_login(seeded, login_path, "nobody@example.com", "wrong password, surely"),
    ]
    for page in pages:
        assert page.status_code == 400
        assert "The email or password is incorrect." in page.text
        assert 'aria-describedby="login_error"' in page.text
        assert 'id="login_error"' in page.text
        assert "set-cookie" not in page.headers or "auth_session" not in page.headers["set-cookie"]
    strip = [
        PAGE_OPTIONS.sub(
            "", p.text.replace(csrf_of(p), "").replace(AGENT_EMAIL, "").replace("nobody@example.com", "")
        )
        for p in pages
    ]  # each page carries its own passkey challenge too
    assert strip[0] == strip[1]  # nothing tells an existing account from an unknown one
    assert fetch(seeded, "SELECT 1 FROM browser_sessions") == []


def test_a_throttled_login_is_a_429_page(make_settings: SettingsFactory) -> None:
    with serving(make_settings(login_lockout_threshold=1, login_lockout_max_seconds=60)) as auth:
        auth.create_user(AGENT_EMAIL, AGENT_PASSWORD, ["agent"])
        client = web_client(auth)
        login_path = login_required(authorize(auth, client.client_id))
        assert submit_login(auth, login_path, AGENT_EMAIL, "wrong password, surely").status_code == 400
        refused = submit_login(auth, login_path, AGENT_EMAIL, AGENT_PASSWORD)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert "Too many attempts" in refused.text
        assert refused.headers["x-frame-options"] == "DENY"


def test_the_login_page_answers_the_device_page_only(seeded: AuthClient) -> None:
    back = "/device?user_code=BCDF-GHJK"
    answer = submit_login(
        seeded,
        "/login?return_to=" + back.replace("?", "%3F").replace("=", "%3D"),
        AGENT_EMAIL,
        AGENT_PASSWORD,
    )
    assert location(answer) == back
    assert "auth_session=" in answer.headers["set-cookie"]
    assert urlsplit(location(answer)).netloc == ""


def test_a_first_party_single_sign_on_keeps_only_the_codes_it_gives(seeded: AuthClient) -> None:
    """The session lookup writes a code ahead (one statement); every answer that is not that code
    (a login past max_age, prompt=none refused, a second factor now required) leaves no code."""
    client = web_client(seeded, first_party=True)
    first = log_in_through(seeded, client.client_id, AGENT_EMAIL, AGENT_PASSWORD)["code"]
    again = client_params(authorize(seeded, client.client_id))["code"]
    assert again != first
    assert redeem(seeded, client.client_id, again).status_code == 200
    execute(seeded, "UPDATE browser_sessions SET auth_time = now() - interval '2 hours'")
    login_required(authorize(seeded, client.client_id, max_age="3600"))
    refused = client_params(authorize(seeded, client.client_id, max_age="3600", prompt="none"))
    assert refused["error"] == "login_required"
    execute(seeded, "UPDATE roles SET requires_mfa = true WHERE name = 'agent'")
    assert location(authorize(seeded, client.client_id)).startswith("/login?request=")  # to set one up
    assert len(fetch(seeded, "SELECT 1 FROM authorization_codes")) == 2  # the two given, nothing else
