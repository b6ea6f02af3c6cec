"""Forgot password: a link by mail, valid ``AUTH_PASSWORD_RESET_TTL`` seconds (15 minutes), used once.

Asking (``request``) answers the same whether or not the address has an account, and in the
same time: the lookup, and for a known active account the link and its queued mail, happen
inside a fixed budget (``AUTH_PASSWORD_RESET_ANSWER_SECONDS``) that every answer waits out; an
unknown or disabled address gets no mail, only an audit event. Asking is throttled per address
(by its digest, existing or not) and per source address. The link's secret is stored only as a
SHA-256 and is bound to the current password: any password change voids it.

Using it (``reset``): the new password passes the policy, then in one transaction the link is
spent, the password replaced, every browser session and refresh-token family of the account
ended with its access tokens (``SessionService.end_account``, as an admin's reset does), the
change audited and a "password changed" notice queued to the address. The account's login
lockout is cleared after: whoever set the new password proved they hold the mailbox.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlencode

from auth_service.audit.service import Actor, AuditTrail
from auth_service.errors import InvalidField, WeakPassword
from auth_service.mail.composer import MailComposer
from auth_service.mail.links import link_digest, new_link_secret
from auth_service.mail.notices import SecurityNotices
from auth_service.mail.outbox import MailOutbox
from auth_service.password_reset.errors import ResetLinkInvalid
from auth_service.password_reset.repository import PasswordResetRepository, PendingReset
from auth_service.passwords.hashing import PasswordHashing
from auth_service.passwords.policy import PasswordPolicy, PasswordRejected
from auth_service.throttling.client_address import address_bucket
from auth_service.throttling.login import account_name
from auth_service.tokens.sessions import SessionService
from auth_service.users.emails import InvalidEmail, normalise_email
from auth_service.users.repository import UserRepository
from auth_service.users.self_service import AttemptLimiter
from shared.db.pool import PostgresPool

__all__ = ["LockoutClearing", "PasswordResets", "PendingReset", "ResetLimits"]

END_REASON = "password_reset"
"""The reason sessions ended by a reset carry (an admin's reset gives the same)."""


class LockoutClearing(Protocol):
    async def clear(self, account: str) -> None:
        """Forget the failed logins of ``account`` (an email), as a successful login does."""


class ResetLimits(Protocol):
    """The two limiters of asking: per address asked for, per source address."""

    @property
    def by_email(self) -> AttemptLimiter: ...

    @property
    def by_ip(self) -> AttemptLimiter: ...


class PasswordResets:
    __slots__ = ("_answer_seconds", "_audit", "_clock", "_composer", "_hashing", "_issuer", "_limits",
                 "_links", "_lockouts", "_notices", "_outbox", "_policy", "_pool", "_sessions", "_ttl",
                 "_users")  # fmt: skip

    def __init__(
        self,
        pool: PostgresPool,
        mail: tuple[MailComposer, MailOutbox, SecurityNotices],
        passwords: tuple[PasswordPolicy, PasswordHashing],
        sessions: SessionService,
        audit: AuditTrail,
        limits: ResetLimits,
        lockouts: LockoutClearing,
        *,
        issuer: str,
        ttl: int,
        answer_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._pool = pool
        self._composer, self._outbox, self._notices = mail
        self._policy, self._hashing = passwords
        self._sessions = sessions
        self._audit = audit
        self._limits = limits
        self._lockouts = lockouts
        self._issuer = issuer
        self._ttl = ttl
        self._answer_seconds = answer_seconds
        self._clock = clock
        self._links = PasswordResetRepository()
        self._users = UserRepository()

    async def request(self, email: str, source_ip: str | None, *, hint: str | None = None) -> None:
        """Mail a link if ``email`` is an active account's; the same answer (``None``), in the same
        time, if not. Raises ``InvalidField`` for text that is no address at all, and
        ``Throttled`` / ``ThrottlingUnavailable`` past a limit (whatever the address)."""
        started = time.monotonic()
        await self._limits.by_ip.hit(address_bucket(source_ip))
        await self._limits.by_email.hit(hashlib.sha256(account_name(email).encode()).hexdigest()[:32])
        try:
            normalised = normalise_email(email)
        except InvalidEmail as exc:
            raise InvalidField("email", str(exc)) from None
        await self._send_link(normalised, Actor(id=None, source_ip=source_ip), hint)
        await asyncio.sleep(max(0.0, self._answer_seconds - (time.monotonic() - started)))

    async def _send_link(self, email: str, actor: Actor, hint: str | None) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            user = await self._users.by_email(conn, email)
            if user is None or not user.active:
                reason = "unknown_account" if user is None else "account_disabled"
                await self._audit.record(
                    "user.password_reset_request", actor, outcome="failure",
                    target_type="user", target_id=str(user.id) if user else None,
                    details={"reason": reason, "email": email}, conn=conn,
                )  # fmt: skip
                return
            secret, digest = new_link_secret()
            now = self._clock()
            await self._links.insert(conn, digest, user.id, now, now + self._ttl, actor.source_ip)
            locale = self._composer.locale(user.locale, hint)
            link = f"{self._issuer}/password/reset?{urlencode({'token': secret})}"
            context = {"link": link, "validity": self._composer.validity(locale, self._ttl)}
            message = self._composer.compose("password_reset", to=user.email, locale=locale, context=context)
            await self._outbox.enqueue(conn, message, kind="password_reset", user_id=user.id)
            await self._audit.record(
                "user.password_reset_request", actor, target_type="user", target_id=str(user.id), conn=conn
            )

    async def pending(self, token: str | None) -> PendingReset | None:
        """The account the link would reset, without spending it (what a GET shows)."""
        digest = link_digest(token)
        if digest is None:
            return None
        async with self._pool.acquire() as conn:
            return await self._links.pending(conn, digest, self._clock())

    async def reset(
        self, token: str | None, password: str, source_ip: str | None, *, hint: str | None = None
    ) -> str:
        """Set ``password`` through the link; the account's email. Raises ``ResetLinkInvalid``
        (the link is no good, or stopped being so meanwhile) or ``WeakPassword`` (the policy)."""
        digest = link_digest(token)
        pending = await self.pending(token)
        if digest is None or pending is None:
            raise ResetLinkInvalid()
        try:
            normalised = await self._policy.check(password, pending.email)
        except PasswordRejected as exc:
            raise WeakPassword("password", str(exc)) from None
        password_hash = await self._hashing.hash(normalised)
        async with self._pool.acquire() as conn, conn.transaction():
            used = await self._links.use(conn, digest, self._clock())
            if used is None:
                raise ResetLinkInvalid()
            await self._users.set_password(conn, used.user_id, password_hash)
            await self._sessions.end_account(conn, used.user_id, END_REASON)
            actor = Actor(id=str(used.user_id), source_ip=source_ip)
            await self._audit.record(
                "user.password_reset", actor, target_type="user", target_id=str(used.user_id),
                details={"via": "email_link"}, conn=conn,
            )  # fmt: skip
            await self._notices.enqueue(conn, used.user_id, "password_changed", locale=hint)
        await self._lockouts.clear(used.email)
        return used.email
