"""Every kind of mail in both languages: two parts, the headers a receiver checks, escaped HTML."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from auth_service.mail.composer import MAIL_KINDS, MAIL_MESSAGES_DIR, MAIL_TEMPLATES_DIR, MailComposer
from auth_service.web.locale import LOCALES
from auth_service.web.messages import Catalogs

SENDER = "Fintech Auth <no-reply@mail.example>"
CONTEXT = {"link": "https://id.example/password/reset?token=abc&x=1", "validity": "15 minutes"}


def composer(**overrides: str) -> MailComposer:
    values = {"product": "Fintech Auth", "color": "#0B5FFF", "default_locale": "en", **overrides}
    return MailComposer(SENDER, clock=lambda: 1_800_000_000.0, **values)


def reparsed(message: EmailMessage) -> EmailMessage:
    """As a receiver parses it from the wire."""
    parsed = message_from_bytes(message.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", MAIL_KINDS)
def test_every_kind_has_a_text_and_an_html_part_and_the_headers(kind: str, locale: str) -> None:
    message = reparsed(composer().compose(kind, to="ana@example.com", locale=locale, context=CONTEXT))  # type: ignore[arg-type]
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["From"] == SENDER
    assert message["To"] == "ana@example.com"
    assert message["Date"] == "Fri, 15 Jan 2027 08:00:00 +0000"
    assert message["Message-ID"].endswith("@mail.example>")
    assert message["Content-Language"] == locale
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["MIME-Version"] == "1.0"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "ana@example.com" in text
    assert "ana@example.com" in html
    assert CONTEXT["link"] in text
    assert "https://id.example/password/reset?token=abc&amp;x=1" in html  # escaped in HTML only
    assert f'<html lang="{locale}">' in html


def test_the_subject_is_in_the_language_and_encoded_for_the_wire() -> None:
    message = composer().compose("password_reset", to="ana@example.com", locale="pt-BR", context=CONTEXT)
    assert message["Subject"] == "Redefina sua senha do Fintech Auth"
    changed = composer().compose("factors_reset", to="ana@example.com", locale="pt-BR", context=CONTEXT)
    wire = changed.as_bytes(policy=policy.SMTP)
    assert b"Subject: Os =?utf-8?q?m=C3=A9todos?= de acesso" in wire  # RFC 2047, the header ASCII
    assert reparsed(changed)["Subject"].startswith("Os métodos de acesso")


def test_values_are_escaped_in_html_and_plain_in_text() -> None:
    mail = composer()
    factor = mail.factor("en", "passkey", '<b onclick="x()">Key</b>')
    message = mail.compose(
        "factor_added", to="ana@example.com", locale="en", context={**CONTEXT, "factor": factor}
    )
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "&lt;b onclick=&#34;x()&#34;&gt;Key&lt;/b&gt;" in html
    assert "<b onclick" not in html
    assert 'a passkey (“<b onclick="x()">Key</b>”)' in text


def test_the_language_is_the_accounts_then_the_hint_then_the_default() -> None:
    mail = composer(default_locale="pt-BR")
    assert mail.locale("en-GB", "pt-BR") == "en"
    assert mail.locale(None, "en") == "en"
    assert mail.locale("de", None) == "pt-BR"
    assert mail.locale(None, None) == "pt-BR"


def test_validity_in_words() -> None:
    mail = composer()
    assert mail.validity("en", 900) == "15 minutes"
    assert mail.validity("en", 86400) == "24 hours"
    assert mail.validity("pt-BR", 900) == "15 minutos"


def test_both_catalogs_have_the_same_keys_and_every_kind_has_its_templates() -> None:
    catalogs = Catalogs.load(MAIL_MESSAGES_DIR)
    assert catalogs.keys("en") == catalogs.keys("pt-BR")
    english = json.loads((MAIL_MESSAGES_DIR / "en" / "mail.json").read_text())
    portuguese = json.loads((MAIL_MESSAGES_DIR / "pt-BR" / "mail.json").read_text())
    assert english["mail.greeting"] != portuguese["mail.greeting"]
    for kind in MAIL_KINDS:
        assert f"mail.{kind}.subject" in english
        assert (MAIL_TEMPLATES_DIR / f"{kind}.txt").exists()
        assert (MAIL_TEMPLATES_DIR / f"{kind}.html").exists()


def test_a_sender_without_an_address_is_refused() -> None:
    with pytest.raises(ValueError, match="AUTH_MAIL_SENDER"):
        MailComposer("Fintech Auth", product="x", color="#000000", default_locale="en")
