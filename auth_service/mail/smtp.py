"""``SmtpTransport``: hands messages to the configured SMTP server (aiosmtplib), one connection per batch.

``AUTH_SMTP_SECURITY`` decides the connection: ``starttls`` requires the upgrade (a server that
does not offer STARTTLS is an error, never a silent fall back to clear text), ``tls`` speaks TLS
from the first byte (port 465), ``none`` sends in clear (a server on the same host, ``make run``'s).
Certificates are verified, the host name included, against the system's authorities or
``AUTH_SMTP_CA_FILE``'s. Credentials, when set, are sent only after the connection is secured
(or in clear with ``none``, which the operator chose). Each message has its own outcome: the
server may refuse one recipient and accept the next.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass

import aiosmtplib

from auth_service.account_settings import MailSettings

__all__ = ["Delivery", "Outgoing", "SmtpTransport"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message as it goes on the wire: the envelope and the RFC 5322 bytes."""

    recipient: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of one message: sent (``error`` is None), or why not and whether to retry."""

    error: str | None = None
    permanent: bool = False

    @property
    def sent(self) -> bool:
        return self.error is None


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:1000]


def _is_permanent(exc: BaseException) -> bool:
    """A 5xx answer to the message itself (RFC 5321 section 4.2.1): sending it again cannot help.
    A refused connection, a timeout, a 4xx, or a failed login (configuration) may pass later."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(refused.code >= 500 for refused in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return False
    return isinstance(exc, aiosmtplib.SMTPResponseException) and 500 <= exc.code < 600


class SmtpTransport:
    __slots__ = ("_settings", "_tls", "sender")

    def __init__(self, settings: MailSettings, *, sender: str) -> None:
        """``sender``: the envelope sender (``MAIL FROM``), the address of ``AUTH_MAIL_SENDER``."""
        self._settings = settings
        self.sender = sender
        self._tls: ssl.SSLContext | None = None
        if settings.smtp_security != "none":
            self._tls = ssl.create_default_context(cafile=settings.smtp_ca_file or None)

    def _client(self) -> aiosmtplib.SMTP:
        settings = self._settings
        return aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            tls_context=self._tls,
            timeout=settings.smtp_timeout,
        )

    async def deliver(self, messages: Sequence[Outgoing]) -> list[Delivery]:
        """One outcome per message, in order. A failure to connect, secure or log in is every
        message's (transient) outcome; nothing here raises for the server's sake."""
        if not messages:
            return []
        client = self._client()
        try:
            await client.connect()
            if self._settings.smtp_username:
                await client.login(self._settings.smtp_username, self._settings.smtp_password)
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            return [Delivery(_describe(exc))] * len(messages)
        outcomes = []
        for message in messages:
            outcomes.append(await self._send(client, message))
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()
        return outcomes

    async def _send(self, client: aiosmtplib.SMTP, message: Outgoing) -> Delivery:
        if not client.is_connected:
            return Delivery("SMTPServerDisconnected: the connection ended before this message")
        try:
            await client.sendmail(self.sender, [message.recipient], message.data)
        except (aiosmtplib.SMTPException, OSError) as exc:
            return Delivery(_describe(exc), permanent=_is_permanent(exc))
        return Delivery()
