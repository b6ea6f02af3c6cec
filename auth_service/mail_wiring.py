"""Mail's part of the object graph: the outbox and its sender, security notices, e-mail
verification and forgot password (``build_mail_services``).

Apart from ``wiring.py`` only to keep each module short; built by ``build_services`` from the
parts the rest of the graph already made, never connecting while building. The outbox sender is
the one part that runs in the background: ``AuthServices.running`` starts and stops it (unless
``AUTH_MAIL_DELIVERY_ENABLED`` is off). ``UserService`` is handed the hooks that queue a
verification link at registration and address change, and a notice at every password change.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from litestar import Router
from litestar.handlers import HTTPRouteHandler

from auth_service.actors import RequestActors
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.browser_sessions.service import BrowserSessions
from auth_service.browser_wiring import GraphParts
from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.mail.composer import MailComposer
from auth_service.mail.delivery import BATCH, OutboxDelivery
from auth_service.mail.notices import SecurityNotices
from auth_service.mail.outbox import MailOutbox
from auth_service.mail.smtp import SmtpTransport
from auth_service.password_reset.pages import password_reset_pages
from auth_service.password_reset.service import PasswordResets
from auth_service.passwords.policy import PasswordPolicy
from auth_service.settings import AuthSettings
from auth_service.throttling.login import LoginThrottle
from auth_service.throttling.window import SlidingWindowLimiter
from auth_service.tokens.login_guard import LoginAttempt
from auth_service.users.service import UserService
from auth_service.verification.controllers import email_verification_router
from auth_service.verification.pages import verification_pages
from auth_service.verification.service import EmailVerification
from auth_service.web.pages import Pages
from shared.db.pool import Connection, PostgresPool
from shared.metrics.service import ServiceMetrics

__all__ = ["AccountMailHooks", "MailServices", "build_mail_services"]


class AccountMailHooks:
    """``UserService``'s ``AccountMail``: verification links and password-changed notices."""

    __slots__ = ("_notices", "_verification")

    def __init__(self, verification: EmailVerification, notices: SecurityNotices) -> None:
        self._verification = verification
        self._notices = notices

    async def email_to_verify(self, conn: Connection, user_id: UUID, email: str, locale: str | None) -> None:
        await self._verification.send(conn, user_id, email, user_locale=locale)

    async def password_changed(self, conn: Connection, user_id: UUID) -> None:
        await self._notices.enqueue(conn, user_id, "password_changed")


class _LockoutClearing:
    """A successful login's bookkeeping for ``account``: its failures and lock are forgotten."""

    __slots__ = ("_login",)

    def __init__(self, login: LoginThrottle) -> None:
        self._login = login

    async def clear(self, account: str) -> None:
        attempt = LoginAttempt(account, None, secrets.token_hex(8))
        await self._login.after_attempt(attempt, succeeded=True)


@dataclass(frozen=True, slots=True)
class _ResetLimits:
    by_email: SlidingWindowLimiter
    by_ip: SlidingWindowLimiter


@dataclass(frozen=True, slots=True, kw_only=True)
class MailServices:
    """Mail's services; tests reach the same ones the handlers use."""

    settings: AuthSettings
    composer: MailComposer
    outbox: MailOutbox
    delivery: OutboxDelivery
    notices: SecurityNotices
    verification: EmailVerification
    password_resets: PasswordResets

    async def start(self) -> None:
        if self.settings.mail.mail_delivery_enabled:
            await self.delivery.start()

    async def stop(self) -> None:
        await self.delivery.stop()

    def api_router(self, actors: RequestActors) -> Router:
        return email_verification_router(self.verification, actors)

    def pages(
        self, users: UserService, sessions: BrowserSessions, cookie: SessionCookie, pages: Pages,
        actors: RequestActors,
    ) -> list[HTTPRouteHandler]:  # fmt: skip
        return [
            *verification_pages(self.verification, users, sessions, cookie, pages, actors),
            *password_reset_pages(
                self.password_resets, cookie, pages, actors,
                min_length=self.settings.passwords.password_min_length,
                ttl=self.settings.mail.password_reset_ttl,
            ),
        ]  # fmt: skip


def mail_composer(settings: AuthSettings) -> MailComposer:
    mail = settings.mail
    return MailComposer(
        mail.mail_sender, product=settings.web.product_name, color=settings.web.primary_color,
        default_locale=settings.web.default_locale,
    )  # fmt: skip


def outbox_delivery(
    settings: AuthSettings, pool: PostgresPool, kek: KeyEncryptionKey, metrics: ServiceMetrics
) -> OutboxDelivery:
    """The outbox's sender (the replicas' loop, or the serverless schedule's rounds)."""
    mail = settings.mail
    sender = mail_composer(settings).envelope_sender
    return OutboxDelivery(
        pool, kek, SmtpTransport(mail, sender=sender), metrics,
        poll_interval=mail.mail_poll_interval, max_attempts=mail.mail_max_attempts,
        backoff=mail.mail_retry_backoff, lease_seconds=mail.smtp_timeout * (BATCH + 3) + 30,
    )  # fmt: skip


def build_mail_services(
    settings: AuthSettings, parts: GraphParts, users: UserService, clock: Callable[[], float] = time.time
) -> MailServices:
    """``clock``: the links' (their expiry), which tests move."""
    mail, issuer, store = settings.mail, settings.tokens.issuer, parts.throttles.store
    composer = mail_composer(settings)
    outbox = MailOutbox(parts.kek)
    delivery = outbox_delivery(settings, parts.pool, parts.kek, parts.metrics)
    outbox.on_queued(delivery.wake)
    notices = SecurityNotices(composer, outbox, issuer=issuer)
    resends = SlidingWindowLimiter(store, "verification_resend", limit=mail.verification_resend_limit,
                                   window_seconds=mail.verification_resend_window_seconds)  # fmt: skip
    verification = EmailVerification(
        parts.pool, composer, outbox, parts.audit, resends, issuer=issuer, ttl=mail.email_verification_ttl,
        clock=clock,
    )  # fmt: skip
    window = mail.password_reset_window_seconds
    limits = _ResetLimits(
        SlidingWindowLimiter(store, "password_reset_email", limit=mail.password_reset_email_limit,
                             window_seconds=window),
        SlidingWindowLimiter(store, "password_reset_ip", limit=mail.password_reset_ip_limit,
                             window_seconds=window),
    )  # fmt: skip
    policy = PasswordPolicy.from_settings(settings.passwords)
    resets = PasswordResets(
        parts.pool, (composer, outbox, notices), (policy, parts.hashing),
        parts.sessions, parts.audit, limits, _LockoutClearing(parts.throttles.login), issuer=issuer,
        ttl=mail.password_reset_ttl, answer_seconds=mail.password_reset_answer_seconds, clock=clock,
    )  # fmt: skip
    users.send_account_mail_with(AccountMailHooks(verification, notices))
    return MailServices(
        settings=settings, composer=composer, outbox=outbox, delivery=delivery, notices=notices,
        verification=verification, password_resets=resets,
    )  # fmt: skip
