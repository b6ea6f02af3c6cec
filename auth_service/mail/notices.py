"""``SecurityNotices``: tell a person, by mail, that something changed on their account.

The public API for every context whose change deserves a notice. Call it on the connection of
the change, inside its transaction, so the notice is queued exactly when the change commits::

    async with pool.acquire() as conn, conn.transaction():
        ...  # the change itself (a factor added, a recovery code used, ...)
        await notices.enqueue(conn, user_id, "factor_added", factor="passkey", factor_name="YubiKey")

Kinds (``NOTICE_KINDS``): ``password_changed`` (every path that changes a password calls it:
self-service, reset by mail, reset by an admin), ``factor_added`` and ``factor_removed`` (give
``factor``: ``totp``, ``passkey`` or ``recovery_codes``, and ``factor_name`` for a named passkey),
``recovery_code_used``, ``recovery_codes_regenerated`` and ``factors_reset`` (an admin removed
every factor). Each names the time and links to "forgot password" for the person who did not do
it. The mail goes to the address the account has at that moment, in the account's language
(``users.locale``), else ``locale`` (the page's), else the default; it is delivered by the outbox
after commit, never inline. It fits ``factors/notices.py``'s ``SecurityNoticeHook``.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlencode
from uuid import UUID

from auth_service.mail.composer import MailComposer, MailKind
from auth_service.mail.outbox import MailOutbox
from auth_service.users.repository import UserRepository
from shared.db.pool import Connection

__all__ = ["NOTICE_KINDS", "SecurityNotices"]

NOTICE_KINDS: Final[tuple[MailKind, ...]] = (
    "password_changed",
    "factor_added",
    "factor_removed",
    "recovery_code_used",
    "recovery_codes_regenerated",
    "factors_reset",
)


class SecurityNotices:
    __slots__ = ("_composer", "_issuer", "_outbox", "_users")

    def __init__(self, composer: MailComposer, outbox: MailOutbox, *, issuer: str) -> None:
        """``issuer``: the public base URL of the hosted pages (the "forgot password" link)."""
        self._composer = composer
        self._outbox = outbox
        self._issuer = issuer
        self._users = UserRepository()

    async def enqueue(
        self,
        conn: Connection,
        user_id: UUID,
        kind: str,
        *,
        factor: str | None = None,
        factor_name: str | None = None,
        locale: str | None = None,
    ) -> None:
        """Queue the notice ``kind`` (one of ``NOTICE_KINDS``; another is a ``ValueError``) for the
        account ``user_id`` in the caller's transaction; an account that is gone gets nothing."""
        notice = next((known for known in NOTICE_KINDS if known == kind), None)
        if notice is None:
            raise ValueError(f"no security notice of kind {kind!r}")
        user = await self._users.by_id(conn, user_id)
        if user is None:
            return
        language = self._composer.locale(user.locale, locale)
        link = f"{self._issuer}/password/forgot?{urlencode({'ui_locales': language})}"
        context = {
            "link": link,
            "factor": self._composer.factor(language, factor, factor_name) if factor else None,
        }
        message = self._composer.compose(notice, to=user.email, locale=language, context=context)
        await self._outbox.enqueue(conn, message, kind=notice, user_id=user_id)
