"""Settings of account security: outgoing mail, second factors and passkeys.

Apart from ``settings.py`` only to keep each module short; ``AuthSettings`` holds them as
``mail``, ``mfa`` and ``passkeys``, read from the same flat ``AUTH_*`` variables.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = ["MailSettings", "MfaSettings", "PasskeySettings"]


class MailSettings(msgspec.Struct, kw_only=True):
    """The SMTP server that carries verification, password reset and security notice mail."""

    smtp_host: str = "127.0.0.1"
    """SMTP server's host name (``make run`` points it at its local server)."""
    smtp_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 587
    """SMTP server's port: 587 for STARTTLS submission, 465 for implicit TLS."""
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    """``starttls`` upgrades the connection before credentials are sent, ``tls`` connects over TLS
    (port 465), ``none`` sends in clear text (only for a server on the same host)."""
    smtp_username: str = ""
    """SMTP user name; empty sends without authenticating."""
    smtp_password: str = ""
    """SMTP password (give it through a secret, never in a file under version control)."""
    mail_sender: str = "Fintech Auth <no-reply@localhost>"
    """``From`` of every message (an address of a domain whose SPF and DKIM cover the SMTP server)."""
    smtp_timeout: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0
    """Seconds a connection to the SMTP server and one message's delivery may take."""


class MfaSettings(msgspec.Struct, kw_only=True):
    """Second factors: TOTP and recovery codes."""

    totp_issuer: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "Fintech Auth"
    """Issuer shown by authenticator apps next to the account name (the ``otpauth://`` label)."""


class PasskeySettings(msgspec.Struct, kw_only=True):
    """Passkeys (WebAuthn): the relying party browsers bind credentials to."""

    webauthn_rp_id: str = ""
    """Relying-party id: the registrable domain of the login pages (``example.com`` for
    ``login.example.com``); a credential works only under it, so it must never change in production.
    Empty: the issuer's host."""
    webauthn_rp_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "Fintech Auth"
    """Name the browser shows when it asks to create or use a passkey."""
    webauthn_origins: list[str] = msgspec.field(default_factory=list)
    """Origins (scheme, host, port) the login pages are served from; an assertion made anywhere
    else is refused. A comma-separated list in the environment; empty: the issuer's origin."""
