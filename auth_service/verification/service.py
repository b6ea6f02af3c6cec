"""E-mail verification: a link to the address proves it reaches the account; ``email_verified`` follows.

A link is sent at self-registration and whenever an account's address changes without being
marked verified (``UserService`` calls ``send`` inside the change's transaction, through the
``AccountMail`` hook), and again on request (``resend``: throttled per user). It is a random
256-bit secret (only its SHA-256 is stored), single use, valid ``AUTH_EMAIL_VERIFICATION_TTL``
seconds, and bound to the address it was sent to: once the account's address changes, a link to
the old one verifies nothing. Opening the link changes nothing (``pending``): mail scanners and
link previews fetch links, so only the confirmation page's POST (``confirm``) spends it. Then
``users.email_verified`` is true, and ID tokens and ``/userinfo`` say so (``oidc/claims.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode
from uuid import UUID

from auth_service.audit.service import Actor, AuditTrail
from auth_service.errors import UserNotFound
from auth_service.mail.composer import MailComposer
from auth_service.mail.links import link_digest, new_link_secret
from auth_service.mail.outbox import MailOutbox
from auth_service.users.repository import UserRepository
from auth_service.users.self_service import AttemptLimiter
from auth_service.verification.errors import EmailAlreadyVerified
from auth_service.verification.repository import PendingVerification, VerificationRepository
from shared.db.pool import Connection, PostgresPool

__all__ = ["EmailVerification", "PendingVerification"]


class EmailVerification:
    __slots__ = ("_audit", "_clock", "_composer", "_issuer", "_links", "_outbox", "_pool", "_resends",
                 "_ttl", "_users")  # fmt: skip

    def __init__(
        self,
        pool: PostgresPool,
        composer: MailComposer,
        outbox: MailOutbox,
        audit: AuditTrail,
        resends: AttemptLimiter,
        *,
        issuer: str,
        ttl: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``issuer``: the pages' public base URL; ``ttl``: ``AUTH_EMAIL_VERIFICATION_TTL``."""
        self._pool = pool
        self._composer = composer
        self._outbox = outbox
        self._audit = audit
        self._resends = resends
        self._issuer = issuer
        self._ttl = ttl
        self._clock = clock
        self._links = VerificationRepository()
        self._users = UserRepository()

    async def send(
        self, conn: Connection, user_id: UUID, email: str, *, user_locale: str | None, hint: str | None = None
    ) -> None:
        """A new link to ``email`` for the account, queued in the caller's transaction."""
        secret, digest = new_link_secret()
        now = self._clock()
        await self._links.insert(conn, digest, user_id, email, now, now + self._ttl)
        locale = self._composer.locale(user_locale, hint)
        context = {
            "link": f"{self._issuer}/email/verify?{urlencode({'token': secret})}",
            "validity": self._composer.validity(locale, self._ttl),
        }
        message = self._composer.compose("email_verification", to=email, locale=locale, context=context)
        await self._outbox.enqueue(conn, message, kind="email_verification", user_id=user_id)

    async def resend(self, user_id: UUID, actor: Actor, *, hint: str | None = None) -> str:
        """A new link for an account whose address is not verified yet; the address it goes to.
        Raises ``Throttled`` past the per-user limit, ``EmailAlreadyVerified``, ``UserNotFound``."""
        await self._resends.hit(str(user_id))
        async with self._pool.acquire() as conn, conn.transaction():
            user = await self._users.by_id(conn, user_id)
            if user is None or not user.active:
                raise UserNotFound()
            if user.email_verified:
                raise EmailAlreadyVerified()
            await self.send(conn, user.id, user.email, user_locale=user.locale, hint=hint)
            await self._audit.record(
                "user.email_verification_sent", actor, target_type="user", target_id=str(user.id), conn=conn
            )
        return user.email

    async def pending(self, token: str | None) -> PendingVerification | None:
        """What the link would verify, without spending it (the page a GET shows)."""
        digest = link_digest(token)
        if digest is None:
            return None
        async with self._pool.acquire() as conn:
            return await self._links.pending(conn, digest, self._clock())

    async def confirm(self, token: str | None, source_ip: str | None) -> PendingVerification | None:
        """Spend the link and mark its address verified; ``None`` when it is no good (unknown,
        used, expired, or for an address the account no longer has)."""
        digest = link_digest(token)
        if digest is None:
            return None
        async with self._pool.acquire() as conn, conn.transaction():
            used = await self._links.use(conn, digest, self._clock())
            if used is not None:
                actor = Actor(id=str(used.user_id), source_ip=source_ip)
                await self._audit.record(
                    "user.email_verify", actor, target_type="user", target_id=str(used.user_id),
                    details={"email": used.email}, conn=conn,
                )  # fmt: skip
        return used
