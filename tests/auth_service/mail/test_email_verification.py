"""E-mail verification as a person gets it: the mail, the page a GET shows, the POST that verifies,
``email_verified`` in ``/userinfo`` and the ID token, a changed address, re-sending and its limit."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit
from uuid import UUID

from auth_service.users.schemas import UserUpdate
from tests.auth_service.code_flow import exchanged, pkce, store_code
from tests.auth_service.conftest import SYSTEM
from tests.auth_service.mail.conftest import PASSWORD, MailingClient, MailingFactory
from tests.auth_service.test_token_grants import claims_of
from tests.mail_server import Received, link_in

USERINFO = "http://auth.test/userinfo"


def register(mailing: MailingClient, email: str) -> UUID:
    answer = mailing.http.post("/api/1/users", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    return UUID(answer.json()["id"])


def verify_path(received: Received) -> str:
    link = urlsplit(link_in(received, "/email/verify"))
    assert f"{link.scheme}://{link.netloc}" == "http://auth.test"
    return f"{link.path}?{link.query}"


def verified(mailing: MailingClient, email: str) -> bool:
    flag: bool = mailing.call(
        mailing.services.pool.fetchval, "SELECT email_verified FROM users WHERE email = $1", email
    )
    return flag


def test_registration_mails_a_link_that_a_get_does_not_spend_and_a_post_does(mailing: MailingClient) -> None:
    register(mailing, "ana@example.com")
    [mail] = mailing.smtp.wait_for(1)
    assert mail.rcpt_tos == ["ana@example.com"]
    assert mail.message["Subject"] == "Confirm your email address for Fintech Auth"
    path = verify_path(mail)
    for _ in range(2):  # a mail scanner, then the person: looking changes nothing
        page = mailing.http.get(path)
        assert page.status_code == 200
        assert "ana@example.com" in page.text
        assert 'action="/email/verify"' in page.text
        assert page.headers["cache-control"].startswith("no-store")
    assert not verified(mailing, "ana@example.com")
    token = parse_qs(urlsplit(path).query)["token"][0]
    done = mailing.form(path, {"token": token})
    assert done.status_code == 200
    assert "Your email address is confirmed" in done.text
    assert verified(mailing, "ana@example.com")
    again = mailing.post("/email/verify", {"token": token})
    assert again.status_code == 400
    assert "This link does not work" in again.text
    assert mailing.http.get(path).status_code == 400


def test_email_verified_reaches_userinfo_and_the_id_token(mailing: MailingClient) -> None:
    user_id = register(mailing, "bea@example.com")
    path = verify_path(mailing.smtp.wait_for(1)[0])
    verifier, challenge = pkce()
    code = store_code(mailing, user_id, challenge, scopes=["openid", "email"], resources=[USERINFO])
    before = exchanged(mailing, code, verifier)
    assert claims_of(before["id_token"])["email_verified"] is False
    mailing.form(path, {"token": parse_qs(urlsplit(path).query)["token"][0]})
    verifier, challenge = pkce()
    code = store_code(mailing, user_id, challenge, scopes=["openid", "email"], resources=[USERINFO])
    after = exchanged(mailing, code, verifier)
    assert claims_of(after["id_token"])["email_verified"] is True
    info = mailing.http.get("/userinfo", headers=mailing.bearer(after["access_token"]))
    assert info.json()["email_verified"] is True


def test_a_changed_address_is_verified_by_its_own_link_only(mailing: MailingClient) -> None:
    user_id = register(mailing, "old@example.com")
    old_path = verify_path(mailing.smtp.wait_for(1)[0])
    user = mailing.call(mailing.services.users.update, user_id, UserUpdate(email="new@example.com"), SYSTEM)
    [_, changed] = mailing.smtp.wait_for(2)
    assert changed.rcpt_tos == ["new@example.com"]
    old_token = parse_qs(urlsplit(old_path).query)["token"][0]
    assert mailing.http.get(old_path).status_code == 400
    assert mailing.post("/email/verify", {"token": old_token}).status_code == 400
    new_path = verify_path(changed)
    mailing.form(new_path, {"token": parse_qs(urlsplit(new_path).query)["token"][0]})
    assert verified(mailing, "new@example.com")
    assert user.email == "new@example.com"


def test_an_expired_link_verifies_nothing(mailing: MailingClient) -> None:
    register(mailing, "late@example.com")
    path = verify_path(mailing.smtp.wait_for(1)[0])
    mailing.clock.advance(86400 + 1)
    page = mailing.http.get(path)
    assert page.status_code == 400
    assert not verified(mailing, "late@example.com")


def test_the_api_resends_a_link_within_a_limit_and_not_once_verified(mailing_app: MailingFactory) -> None:
    with mailing_app(verification_resend_limit=2) as mailing:
        register(mailing, "cy@example.com")
        token = mailing.admin_login("cy@example.com", PASSWORD)["access_token"]
        for _ in range(2):
            sent = mailing.http.post("/api/1/users/me/email-verification", headers=mailing.bearer(token))
            assert sent.status_code == 202, sent.text
            assert sent.json() == {"email": "cy@example.com"}
        refused = mailing.http.post("/api/1/users/me/email-verification", headers=mailing.bearer(token))
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        mails = mailing.smtp.wait_for(3)
        assert [m.rcpt_tos for m in mails] == [["cy@example.com"]] * 3
        last = verify_path(mails[-1])
        mailing.form(last, {"token": parse_qs(urlsplit(last).query)["token"][0]})
    with mailing_app() as fresh:
        token = fresh.admin_login("cy@example.com", PASSWORD)["access_token"]
        answer = fresh.http.post("/api/1/users/me/email-verification", headers=fresh.bearer(token))
        assert answer.status_code == 409
        assert answer.json()["type"].endswith("email-already-verified")


def test_the_account_page_shows_the_address_and_resends_in_the_accounts_language(
    mailing: MailingClient,
) -> None:
    user_id = register(mailing, "dora@example.com")
    mailing.smtp.wait_for(1)
    mailing.call(mailing.services.users.update, user_id, UserUpdate(locale="pt-BR"), SYSTEM)
    away = mailing.http.get("/account/email", follow_redirects=False)
    assert away.status_code == 303
    assert away.headers["location"] == "/login?return_to=%2Faccount%2Femail"
    signed_in = mailing.form(
        "/login?return_to=%2Faccount%2Femail",
        {"email": "dora@example.com", "password": PASSWORD, "return_to": "/account/email"},
        action="/login",
        follow_redirects=False,
    )
    assert signed_in.headers["location"] == "/account/email", signed_in.text[:300]
    page = mailing.http.get("/account/email")
    assert "dora@example.com is not verified yet" in page.text
    sent = mailing.form("/account/email", {})
    assert sent.status_code == 200
    assert "We sent a new link to dora@example.com" in sent.text
    [_, resent] = mailing.smtp.wait_for(2)
    assert resent.message["Subject"] == "Confirme seu endereço de e-mail no Fintech Auth"
    assert resent.message["Content-Language"] == "pt-BR"
