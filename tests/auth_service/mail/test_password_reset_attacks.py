"""Forgot password against an attacker: a link reused, used after a password change, expired (the
clock moved, no waiting), guessed; an unknown or disabled address (the same answer, no mail);
flooding one address or from one source address; a form without our CSRF token."""

from __future__ import annotations

import re
from typing import Any

import pytest

from auth_service.users.schemas import UserUpdate
from tests.auth_service.conftest import SYSTEM
from tests.auth_service.mail.conftest import NEW_PASSWORD, PASSWORD, MailingClient, MailingFactory
from tests.auth_service.mail.test_password_reset import EMAIL, ask, choose, reset_path, token_of

INVALID = "This link does not work"


@pytest.fixture
def person(mailing: MailingClient) -> MailingClient:
    mailing.create_user(EMAIL, PASSWORD, ["viewer"])
    return mailing


def linked(mailing: MailingClient, count: int = 1) -> str:
    ask(mailing)
    return reset_path(mailing.smtp.wait_for(count)[count - 1])


def refused(mailing: MailingClient, path: str) -> None:
    shown = mailing.http.get(path)
    assert shown.status_code == 400
    assert INVALID in shown.text
    assert 'href="/password/forgot"' in shown.text
    used = mailing.post(
        "/password/reset", {"token": token_of(path), "password": "x" * 20, "password_confirm": "x" * 20}
    )
    assert used.status_code == 400
    assert INVALID in used.text


def test_a_link_works_once(person: MailingClient) -> None:
    path = linked(person)
    assert choose(person, path).status_code == 200
    refused(person, path)


def test_a_link_is_void_once_the_password_changed_another_way(person: MailingClient) -> None:
    path = linked(person)
    token = person.admin_login(EMAIL, PASSWORD)["access_token"]
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert (
        person.http.post("/api/1/users/me/password", json=change, headers=person.bearer(token)).status_code
        == 204
    )
    refused(person, path)


def test_using_one_link_voids_the_others(person: MailingClient) -> None:
    first = linked(person)
    second = linked(person, 2)
    assert choose(person, second).status_code == 200
    refused(person, first)


def test_an_expired_link_is_refused(person: MailingClient) -> None:
    path = linked(person)
    person.clock.advance(14 * 60)
    assert person.http.get(path).status_code == 200  # still within its 15 minutes
    person.clock.advance(61)
    refused(person, path)


@pytest.mark.parametrize("token", ["", "x", "A" * 43, "../../etc/passwd", "A" * 5000])
def test_a_made_up_link_is_refused(person: MailingClient, token: str) -> None:
    refused(person, f"/password/reset?token={token}")


def _body(answer: Any) -> str:
    return re.sub(r'value="[^"]+"', "", answer.text)  # nothing of the kind is on the page, but be sure


def test_an_unknown_or_disabled_address_gets_the_same_answer_and_no_mail(person: MailingClient) -> None:
    disabled = person.create_user("gone@example.com", PASSWORD, ["viewer"])
    person.call(person.services.users.update, disabled.id, UserUpdate(status="disabled"), SYSTEM)
    answers = [ask(person, email) for email in ("nobody@example.com", "gone@example.com", EMAIL)]
    assert {answer.status_code for answer in answers} == {200}
    assert _body(answers[0]) == _body(answers[1]) == _body(answers[2])
    assert answers[0].text == answers[2].text
    person.delivered()
    assert [r.rcpt_tos for r in person.smtp.received] == [[EMAIL]]
    assert [row["recipient"] for row in person.outbox()] == [EMAIL]


def test_flooding_one_address_is_throttled_whether_or_not_it_exists(mailing_app: MailingFactory) -> None:
    with mailing_app(password_reset_email_limit=2) as mailing:
        mailing.create_user(EMAIL, PASSWORD, ["viewer"])
        for email in (EMAIL, "nobody@example.com"):
            assert [ask(mailing, email).status_code for _ in range(3)] == [200, 200, 429]
        throttled = ask(mailing, EMAIL.upper())  # the same mailbox, however it is written
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) > 0
        assert "Too many attempts" in throttled.text
        mailing.delivered()
        assert len(mailing.smtp.received) == 2


def test_one_source_address_is_throttled_across_addresses(mailing_app: MailingFactory) -> None:
    with mailing_app(password_reset_ip_limit=3) as mailing:
        statuses = [ask(mailing, f"p{n}@example.com").status_code for n in range(4)]
        assert statuses == [200, 200, 200, 429]


def test_a_form_without_our_csrf_token_is_refused(person: MailingClient) -> None:
    answer = person.http.post("/password/forgot", data={"email": EMAIL})
    assert answer.status_code == 403
    path = linked(person)
    forged = person.http.post(
        "/password/reset",
        data={"token": token_of(path), "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert forged.status_code == 403
    assert person.http.get(path).status_code == 200  # the link is still good


def test_text_that_is_no_address_is_sent_back_to_be_corrected(person: MailingClient) -> None:
    answer = ask(person, "not an address")
    assert answer.status_code == 400
    assert 'aria-invalid="true"' in answer.text
    assert 'value="not an address"' in answer.text
    assert person.outbox() == []
