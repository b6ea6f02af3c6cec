"""The SMTP transport against a real SMTP server (aiosmtpd over TCP): clear, STARTTLS, TLS, login."""

from __future__ import annotations

from collections.abc import Iterator
from email import policy
from pathlib import Path
from typing import Any

import pytest

from auth_service.account_settings import MailSettings
from auth_service.mail.composer import MailComposer
from auth_service.mail.smtp import Outgoing, SmtpTransport
from tests.mail_server import Certificate, MailServer, self_signed_certificate

SENDER = "Fintech Auth <no-reply@mail.example>"
CREDENTIALS = ("mailer", "s3cret-relay-password")


def outgoing(to: str = "ana@example.com") -> Outgoing:
    composer = MailComposer(SENDER, product="Fintech Auth", color="#0B5FFF", default_locale="en")
    context = {"link": "https://id.example/email/verify?token=abc", "validity": "24 hours"}
    message = composer.compose("email_verification", to=to, locale="en", context=context)
    return Outgoing(to, message.as_bytes(policy=policy.SMTP))


def transport(server: MailServer, **settings: Any) -> SmtpTransport:
    values: dict[str, Any] = {"smtp_host": server.host, "smtp_port": server.port, "smtp_security": "none"}
    return SmtpTransport(MailSettings(**{**values, **settings}), sender="no-reply@mail.example")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed_certificate(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def starttls_server(certificate: Certificate) -> Iterator[MailServer]:
    server = MailServer(security="starttls", certificate=certificate, credentials=CREDENTIALS).start()
    yield server
    server.stop()


async def test_a_message_arrives_with_both_parts_and_its_envelope(smtp_server: MailServer) -> None:
    [outcome] = await transport(smtp_server).deliver([outgoing()])
    assert outcome.sent
    [received] = smtp_server.wait_for(1)
    assert received.mail_from == "no-reply@mail.example"
    assert received.rcpt_tos == ["ana@example.com"]
    assert received.message["Subject"] == "Confirm your email address for Fintech Auth"
    assert received.message["From"] == SENDER
    assert received.message["Message-ID"]
    assert received.message["Date"]
    assert "https://id.example/email/verify?token=abc" in received.text()
    assert 'href="https://id.example/email/verify?token=abc"' in received.html()
    assert not received.secure


async def test_starttls_with_a_private_ca_then_login(
    starttls_server: MailServer, certificate: Certificate
) -> None:
    mailer = transport(
        starttls_server, smtp_security="starttls", smtp_ca_file=str(certificate.cert),
        smtp_username=CREDENTIALS[0], smtp_password=CREDENTIALS[1],
    )  # fmt: skip
    [outcome] = await mailer.deliver([outgoing()])
    assert outcome.sent, outcome.error
    [received] = starttls_server.wait_for(1)
    assert received.secure
    assert received.login == CREDENTIALS[0]


async def test_a_certificate_nobody_vouches_for_is_refused(starttls_server: MailServer) -> None:
    mailer = transport(starttls_server, smtp_security="starttls", smtp_username="mailer", smtp_password="x")
    [outcome] = await mailer.deliver([outgoing()])
    assert outcome.error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in outcome.error
    assert not outcome.permanent
    assert starttls_server.received == []


async def test_a_wrong_password_is_a_transient_failure(
    starttls_server: MailServer, certificate: Certificate
) -> None:
    mailer = transport(
        starttls_server, smtp_security="starttls", smtp_ca_file=str(certificate.cert),
        smtp_username=CREDENTIALS[0], smtp_password="wrong",
    )  # fmt: skip
    outcomes = await mailer.deliver([outgoing(), outgoing("bob@example.com")])
    assert [o.sent for o in outcomes] == [False, False]
    assert all("SMTPAuthenticationError" in (o.error or "") and not o.permanent for o in outcomes)
    assert starttls_server.received == []


async def test_starttls_is_required_never_a_fall_back_to_clear_text(
    smtp_server: MailServer, tmp_path: Path
) -> None:
    [outcome] = await transport(smtp_server, smtp_security="starttls").deliver([outgoing()])
    assert outcome.error is not None
    assert "STARTTLS" in outcome.error
    assert smtp_server.received == []


async def test_implicit_tls(certificate: Certificate) -> None:
    server = MailServer(security="tls", certificate=certificate).start()
    try:
        mailer = transport(server, smtp_security="tls", smtp_ca_file=str(certificate.cert))
        [outcome] = await mailer.deliver([outgoing()])
        assert outcome.sent, outcome.error
        assert server.wait_for(1)[0].secure
    finally:
        server.stop()


async def test_a_refused_recipient_is_permanent_and_the_next_message_still_goes(
    smtp_server: MailServer,
) -> None:
    smtp_server.refused.add("gone@example.com")
    outcomes = await transport(smtp_server).deliver(
        [outgoing("gone@example.com"), outgoing("bob@example.com")]
    )
    assert outcomes[0].permanent
    assert "550" in (outcomes[0].error or "")
    assert outcomes[1].sent
    assert [r.rcpt_tos for r in smtp_server.wait_for(1)] == [["bob@example.com"]]


async def test_a_server_that_is_down_fails_every_message_transiently() -> None:
    server = MailServer()  # never started: nothing listens on its port
    outcomes = await transport(server, smtp_timeout=2.0).deliver([outgoing(), outgoing("bob@example.com")])
    assert [(o.sent, o.permanent) for o in outcomes] == [(False, False), (False, False)]
