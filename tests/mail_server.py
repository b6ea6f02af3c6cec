"""A real SMTP server for tests (aiosmtpd, over TCP on 127.0.0.1): what the code under test sent.

``MailServer`` runs in its own thread (aiosmtpd's ``Controller``), accepts every message and keeps
it parsed (``EmailMessage``) with its envelope; ``wait_for`` blocks until enough have arrived
(``arrived`` awaits it, for a test on the sender's own event loop). It can require STARTTLS or
speak TLS from the first byte with a certificate made here by ``cryptography``
(``self_signed_certificate``), require a login, and refuse chosen recipients. ``stop()`` and
``start()`` again on the same port play a server that is down, then up.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import re
import ssl
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devstack.embedded import free_port

__all__ = ["Certificate", "MailServer", "Received", "link_in", "self_signed_certificate"]

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def self_signed_certificate(folder: Path) -> Certificate:
    """A P-256 certificate for ``localhost`` and ``127.0.0.1``, valid for a day: its own CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return Certificate(cert_path, key_path)


@dataclass(frozen=True)
class Received:
    """One accepted message: the envelope as the client gave it, and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    secure: bool
    """Whether it came over TLS (STARTTLS or implicit)."""
    login: str | None

    def text(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None, "no text/plain part"
        return str(part.get_content())

    def html(self) -> str:
        part = self.message.get_body(("html",))
        assert part is not None, "no text/html part"
        return str(part.get_content())


def link_in(received: Received, path: str) -> str:
    """The first URL of the text part whose path is ``path`` (``/password/reset``)."""
    match = re.search(rf"https?://[^\s/]+{re.escape(path)}\?[^\s]+", received.text())
    assert match, f"no {path} link in:\n{received.text()}"
    return match.group(0)


class _Collector:
    def __init__(self, server: MailServer) -> None:
        self._server = server

    async def handle_RCPT(
        self, smtp: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self._server.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        secure = smtp.transport is not None and smtp.transport.get_extra_info("ssl_object") is not None
        received = Received(
            str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos], message, secure, login
        )
        self._server.accept(received)
        return "250 OK"


class MailServer:
    """``security``: ``none``, ``starttls`` (required before MAIL) or ``tls``; ``credentials``:
    the only login accepted (then required)."""

    def __init__(
        self,
        *,
        security: Literal["none", "starttls", "tls"] = "none",
        certificate: Certificate | None = None,
        credentials: tuple[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.security = security
        self.received: list[Received] = []
        self.refused: set[str] = set()
        """Recipients answered ``550`` (a permanent refusal)."""
        self._certificate = certificate
        self._credentials = credentials
        self._arrived = threading.Condition()
        self._controller: Controller | None = None

    @property
    def host(self) -> str:
        return HOST

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"hostname": HOST, "port": self.port, "server_hostname": "localhost"}
        if self.security != "none":
            assert self._certificate is not None, "TLS needs a certificate"
            context = self._certificate.server_context()
            if self.security == "tls":
                options["ssl_context"] = context
            else:
                options.update(tls_context=context, require_starttls=True)
        if self._credentials is not None:
            options.update(
                authenticator=self._authenticate, auth_required=True, auth_require_tls=self.security != "none"
            )
        return options

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and (data.login.decode(), data.password.decode()) == self._credentials
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    def start(self) -> MailServer:
        self._controller = Controller(_Collector(self), **self._options())
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def accept(self, received: Received) -> None:
        with self._arrived:
            self.received.append(received)
            self._arrived.notify_all()

    def wait_for(self, count: int = 1, timeout: float = 15.0) -> list[Received]:
        """The first ``count`` messages, waiting up to ``timeout`` seconds for them."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.received)} message(s) arrived, {count} expected"
                self._arrived.wait(left)
            return list(self.received[:count])

    async def arrived(self, count: int = 1, timeout: float = 15.0) -> list[Received]:
        """``wait_for`` for a test on the event loop the sender runs on (never blocking it)."""
        return await asyncio.to_thread(self.wait_for, count, timeout)

    def to(self, address: str) -> list[Received]:
        with self._arrived:
            return [r for r in self.received if address in r.rcpt_tos]
