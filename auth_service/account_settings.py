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
    smtp_ca_file: str = ""
    """PEM file of the certificate authorities trusted for the SMTP server's certificate (a private
    CA); empty trusts the system's. The server's name is always checked against its certificate."""
    mail_delivery_enabled: bool = True
    """Whether this replica delivers the mail outbox. Mail is written to the outbox in the
    transaction of the change that causes it either way; off, it waits for a replica that delivers."""
    mail_poll_interval: Annotated[float, msgspec.Meta(gt=0, le=60)] = 1.0
    """Seconds between the outbox sender's looks for mail to deliver (sooner when this replica
    itself has just queued some)."""
    mail_max_attempts: Annotated[int, msgspec.Meta(ge=1, le=100)] = 10
    """Deliveries tried per message before it is given up: kept in the outbox with its last error,
    logged and counted (``auth_mail_deliveries_total{outcome="failed"}``), never dropped."""
    mail_retry_backoff: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 5.0
    """Seconds before the first retry of a failed delivery; each further failure doubles the pause
    (at most 15 minutes). An SMTP 5xx answer to a message is permanent: not retried."""
    email_verification_ttl: Annotated[int, msgspec.Meta(ge=300, le=30 * 86400)] = 86400
    """Seconds an e-mail verification link stays valid (single use)."""
    verification_resend_limit: Annotated[int, msgspec.Meta(ge=1)] = 3
    """Verification mails one user may ask for within the window (then 429)."""
    verification_resend_window_seconds: Annotated[int, msgspec.Meta(ge=1)] = 3600
    """The sliding window of ``AUTH_VERIFICATION_RESEND_LIMIT``, in seconds."""
    password_reset_ttl: Annotated[int, msgspec.Meta(ge=60, le=3600)] = 900
    """Seconds a password reset link stays valid (single use, and void once the password changes)."""
    password_reset_email_limit: Annotated[int, msgspec.Meta(ge=1)] = 3
    """Password resets asked for one address within the window (then 429), whether or not it has an
    account: a mailbox cannot be flooded, and the limit says nothing about the account."""
    password_reset_ip_limit: Annotated[int, msgspec.Meta(ge=1)] = 20
    """Password resets asked from one source address (an IPv6 /64) within the window (then 429)."""
    password_reset_window_seconds: Annotated[int, msgspec.Meta(ge=1)] = 3600
    """The sliding window of both password reset limits, in seconds."""
    password_reset_answer_seconds: Annotated[float, msgspec.Meta(ge=0, le=10)] = 0.25
    """Least time the "forgot password" form takes to answer, whether or not the address has an
    account: the lookup, the link and the queued mail fit in it, so the answer's timing does not
    tell whether an account exists."""


class MfaSettings(msgspec.Struct, kw_only=True):
    """Second factors: TOTP and recovery codes."""

    totp_issuer: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "Fintech Auth"
    """Issuer shown by authenticator apps next to the account name (the ``otpauth://`` label)."""
    second_factor_lockout_threshold: Annotated[int, msgspec.Meta(ge=1)] = 5
    """Wrong second-factor codes (TOTP or recovery) of one person before their second step locks:
    the n-th failure locks it for 2^(n - threshold) seconds, as wrong passwords lock a login. Six
    digits are a million codes, so this lock is what keeps guessing hopeless."""
    second_factor_lockout_max_seconds: Annotated[int, msgspec.Meta(ge=1)] = 900
    """Longest lock of one person's second step, in seconds (the doubling stops here)."""
    second_factor_lockout_reset_seconds: Annotated[int, msgspec.Meta(ge=1)] = 900
    """Quiet seconds after the last lock ends that clear a person's wrong codes; a right code
    clears them at once."""
    second_factor_ip_max_failures: Annotated[int, msgspec.Meta(ge=1)] = 100
    """Wrong second-factor codes from one source address (an IPv6 /64) within the window, whatever
    person they are for, before further codes from it are refused."""
    second_factor_ip_window_seconds: Annotated[int, msgspec.Meta(ge=1)] = 600
    """The sliding window of ``AUTH_SECOND_FACTOR_IP_MAX_FAILURES``, in seconds."""
    second_step_ttl: Annotated[int, msgspec.Meta(ge=60, le=1800)] = 600
    """Seconds a person has, once their password was right, to give the second factor (or to set
    one up) before the login starts over."""


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
    webauthn_ceremony_ttl: Annotated[int, msgspec.Meta(ge=30, le=900)] = 300
    """Seconds from a passkey prompt's options to its answer (the browser's timeout too); a
    challenge not answered by then is refused."""
    webauthn_max_passkeys: Annotated[int, msgspec.Meta(ge=1, le=100)] = 10
    """Passkeys one person may register (each is a row and an entry in every second-factor prompt)."""
    webauthn_registration_max_age: Annotated[int, msgspec.Meta(ge=60, le=86400)] = 900
    """Seconds since the login within which a browser session may add a passkey; an older one
    signs in again first (a stolen session cookie cannot plant its thief's passkey)."""
