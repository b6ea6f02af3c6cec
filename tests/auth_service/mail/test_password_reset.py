"""Forgot password as a person goes through it: the link on the login page, the form, the mail, the
new password under the policy, every session ended, the lockout cleared, the notice mailed."""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from auth_service.throttling.login import account_name
from tests.auth_service.code_flow import refresh
from tests.auth_service.conftest import SYSTEM
from tests.auth_service.mail.conftest import NEW_PASSWORD, PASSWORD, MailingClient, MailingFactory
from tests.mail_server import Received, link_in

EMAIL = "erin@example.com"


@pytest.fixture
def person(mailing: MailingClient) -> MailingClient:
    mailing.create_user(EMAIL, PASSWORD, ["viewer"])
    return mailing


def ask(mailing: MailingClient, email: str = EMAIL, **kwargs: Any) -> Any:
    return mailing.form("/password/forgot", {"email": email}, **kwargs)


def reset_path(received: Received) -> str:
    link = urlsplit(link_in(received, "/password/reset"))
    return f"{link.path}?{link.query}"


def token_of(path: str) -> str:
    return parse_qs(urlsplit(path).query, keep_blank_values=True)["token"][0]


def choose(
    mailing: MailingClient, path: str, password: str = NEW_PASSWORD, confirm: str | None = None
) -> Any:
    fields = {"token": token_of(path), "password": password, "password_confirm": confirm or password}
    return mailing.form(path, fields)


def password_grant(mailing: MailingClient, password: str) -> Any:
    return mailing.token(
        {"grant_type": "password", "client_id": "first-party", "username": EMAIL, "password": password}
    )


def test_the_login_page_links_to_forgot_password_in_its_language(person: MailingClient) -> None:
    page = person.http.get("/login?return_to=/device&ui_locales=pt-BR")
    assert '<a href="/password/forgot?ui_locales=pt-BR">Esqueceu sua senha?</a>' in page.text
    forgot = person.http.get("/password/forgot?ui_locales=pt-BR")
    assert forgot.status_code == 200
    assert 'autocomplete="username"' in forgot.text
    assert '<label for="email">E-mail</label>' in forgot.text


def test_a_reset_end_to_end(person: MailingClient) -> None:
    before = password_grant(person, PASSWORD).json()
    answer = ask(person)
    assert answer.status_code == 200
    assert "Check your inbox" in answer.text
    [mail] = person.smtp.wait_for(1)
    assert mail.rcpt_tos == [EMAIL]
    assert mail.message["Subject"] == "Reset your Fintech Auth password"
    assert "valid for 15 minutes" in mail.text()
    path = reset_path(mail)
    form = person.http.get(path)
    assert form.status_code == 200
    assert f"For the account {EMAIL}." in form.text
    assert form.text.count('autocomplete="new-password"') == 2
    done = choose(person, path)
    assert done.status_code == 200, done.text
    assert "Your password was changed" in done.text
    assert password_grant(person, PASSWORD).status_code == 400
    assert password_grant(person, NEW_PASSWORD).status_code == 200
    assert refresh(person, before["refresh_token"], client_id="first-party").status_code == 400
    [_, notice] = person.smtp.wait_for(2)
    assert notice.message["Subject"] == "Your Fintech Auth password was changed"
    assert "http://auth.test/password/forgot?ui_locales=en" in notice.text()
    actions = person.call(
        person.services.pool.fetch,
        "SELECT action, outcome FROM audit_events WHERE action LIKE 'user.password_reset%'",
    )
    assert sorted((row["action"], row["outcome"]) for row in actions) == [
        ("user.password_reset", "success"),
        ("user.password_reset_request", "success"),
    ]


def test_the_new_password_must_pass_the_policy_and_match_its_confirmation(person: MailingClient) -> None:
    ask(person)
    path = reset_path(person.smtp.wait_for(1)[0])
    weak = choose(person, path, "password123")
    assert weak.status_code == 400
    assert "too short or too easy to guess" in weak.text
    assert 'aria-describedby="password_hint reset_error"' in weak.text
    mismatch = choose(person, path, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert mismatch.status_code == 400
    assert "The two passwords are not the same." in mismatch.text
    assert choose(person, path).status_code == 200  # neither refusal spent the link


def test_the_reset_clears_the_accounts_lockout(person: MailingClient) -> None:
    assert password_grant(person, "wrong password, surely").status_code == 400
    key = f"{person.services.settings.redis.redis_prefix}throttle:login_account:"
    key += hashlib.sha256(account_name(EMAIL).encode()).hexdigest()[:32]
    assert person.call(person.services.redis.exists, key) == 1
    ask(person)
    choose(person, reset_path(person.smtp.wait_for(1)[0]))
    assert person.call(person.services.redis.exists, key) == 0


def test_every_password_change_mails_a_notice(person: MailingClient) -> None:
    user = person.call(
        person.services.users.get, person.create_user("fay@example.com", PASSWORD, ["viewer"]).id
    )
    person.call(person.services.users.reset_password, user.id, NEW_PASSWORD, SYSTEM)
    token = person.admin_login("fay@example.com", NEW_PASSWORD)["access_token"]
    change = {"current_password": NEW_PASSWORD, "new_password": "a third sturdy passphrase 11"}
    assert (
        person.http.post("/api/1/users/me/password", json=change, headers=person.bearer(token)).status_code
        == 204
    )
    notices = person.smtp.wait_for(2)
    assert [(n.rcpt_tos, n.message["Subject"]) for n in notices] == [
        (["fay@example.com"], "Your Fintech Auth password was changed")
    ] * 2


def test_the_answer_waits_out_its_budget_with_or_without_an_account(mailing_app: MailingFactory) -> None:
    with mailing_app(password_reset_answer_seconds=0.3) as mailing:
        mailing.create_user(EMAIL, PASSWORD, ["viewer"])
        for email in (EMAIL, "nobody@example.com"):
            started = time.monotonic()
            assert ask(mailing, email).status_code == 200
            assert time.monotonic() - started >= 0.3
