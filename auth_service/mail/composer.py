"""``MailComposer``: one kind of message, in one language, as a ready-to-send RFC 5322 message.

Every message is ``multipart/alternative``: a plain-text part first (read by every client, and
what a filter or a screen reader gets) and an HTML part, both rendered from the kind's Jinja
templates (``templates/<kind>.txt`` and ``.html``) with words from the mail catalogs
(``messages/<locale>/mail.json``, loaded like the pages' ones, so both languages must have the
same keys). HTML is autoescaped; plain text is not (it is not markup). The headers are what a
receiving server checks: ``From`` (the configured sender), ``To``, ``Subject`` (RFC 2047 encoded
when not ASCII), ``Date``, a ``Message-ID`` in the sender's domain, ``Content-Language`` and
``Auto-Submitted: auto-generated`` (RFC 3834: no vacation auto-replies to a no-reply address).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Final, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from auth_service.web.locale import choose_locale
from auth_service.web.messages import Catalogs

__all__ = ["MAIL_KINDS", "MAIL_MESSAGES_DIR", "MAIL_TEMPLATES_DIR", "MailComposer", "MailKind"]

MAIL_TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
MAIL_MESSAGES_DIR: Final = Path(__file__).parent / "messages"
MailKind = Literal[
    "email_verification",
    "password_reset",
    "password_changed",
    "factor_added",
    "factor_removed",
    "recovery_code_used",
    "recovery_codes_regenerated",
    "factors_reset",
]
MAIL_KINDS: Final[tuple[MailKind, ...]] = (
    "email_verification",
    "password_reset",
    "password_changed",
    "factor_added",
    "factor_removed",
    "recovery_code_used",
    "recovery_codes_regenerated",
    "factors_reset",
)


def _environment(*, html: bool) -> Environment:
    return Environment(
        loader=FileSystemLoader(MAIL_TEMPLATES_DIR),
        autoescape=html,  # noqa: S701 - the plain-text part is no markup; the HTML one escapes
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )


class MailComposer:
    """Built once (``mail_wiring``); ``compose`` is pure apart from the clock and a random id."""

    __slots__ = ("_catalogs", "_clock", "_color", "_default_locale", "_domain", "_html", "_product",
                 "_sender", "_text", "envelope_sender")  # fmt: skip

    def __init__(
        self,
        sender: str,
        *,
        product: str,
        color: str,
        default_locale: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``sender``: ``AUTH_MAIL_SENDER`` (``Name <address>`` or an address)."""
        self._sender = sender
        self.envelope_sender = parseaddr(sender)[1]
        if "@" not in self.envelope_sender:
            raise ValueError(f"AUTH_MAIL_SENDER {sender!r} holds no email address")
        self._domain = self.envelope_sender.rpartition("@")[2]
        self._product = product
        self._color = color
        self._default_locale = default_locale
        self._clock = clock
        self._catalogs = Catalogs.load(MAIL_MESSAGES_DIR)
        self._text = _environment(html=False)
        self._html = _environment(html=True)

    def locale(self, user_locale: str | None, hint: str | None = None) -> str:
        """The message's language: the account's own (``users.locale``), else ``hint`` (the page's
        language, or an ``Accept-Language``), else ``AUTH_DEFAULT_LOCALE``."""
        return choose_locale(user_locale, hint, self._default_locale)

    def factor(self, locale: str, factor: str, name: str | None = None) -> str:
        """A factor (``totp``, ``passkey``, ``recovery_codes``) in words, with its name if any."""
        t = self._catalogs.translator(locale)
        key = f"mail.factor.{factor}"
        described = t(key) if t.has(key) else factor
        return t("mail.factor.named", factor=described, name=name) if name else described

    def validity(self, locale: str, seconds: int) -> str:
        """How long a link lives, in words: whole hours from two hours on, else minutes."""
        t = self._catalogs.translator(locale)
        if seconds >= 7200:
            return t("mail.hours", count=seconds // 3600)
        return t("mail.minutes", count=max(1, seconds // 60))

    def compose(
        self, kind: MailKind, *, to: str, locale: str, context: Mapping[str, Any] | None = None
    ) -> EmailMessage:
        """``context``: what the kind's templates name beyond ``t``, ``product``, ``email`` (the
        recipient), ``locale``, ``color``, ``subject`` and ``time`` (now, UTC, for notices)."""
        t = self._catalogs.translator(locale)
        now = datetime.fromtimestamp(self._clock(), UTC)
        subject = t(f"mail.{kind}.subject", product=self._product)
        values = {
            "t": t, "product": self._product, "email": to, "locale": locale, "color": self._color,
            "subject": subject, "time": now.strftime("%Y-%m-%d %H:%M"), "factor": None, **(context or {}),
        }  # fmt: skip
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = make_msgid(domain=self._domain)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(self._text.get_template(f"{kind}.txt").render(values))
        message.add_alternative(self._html.get_template(f"{kind}.html").render(values), subtype="html")
        message["Content-Language"] = locale  # after the content: setting it clears Content-* headers
        return message
