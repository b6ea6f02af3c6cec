"""``MailOutbox.enqueue``: a message joins the outbox in the caller's transaction, never sent inline.

Mail is a consequence of a change (an account registered, a password reset asked for), so it is
written on the change's own connection and commits or rolls back with it: a rolled-back change
sends nothing, a committed one is never without its mail. Delivery happens later, off the
request path (``delivery.py``), so a slow or dead SMTP server neither fails a request nor shows
in its timing.

The message is sealed with the key-encryption key before it is stored: a reset or verification
mail carries a live link, and a database dump must not hand it out (the link's secret itself is
stored only as a hash). The row's id is bound as associated data, so a sealed message copied
onto another row does not open.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from uuid import UUID

from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.mail.composer import MailKind
from auth_service.mail.repository import OutboxRepository
from shared.db.pool import Connection

__all__ = ["NUDGE_DELAY", "MailOutbox", "associated_data"]

NUDGE_DELAY = 0.05
"""Seconds after an enqueue before this replica's sender looks: the caller's commit, which the
enqueue cannot see, has usually landed by then; the sender's poll interval is the guarantee."""


def associated_data(mail_id: UUID) -> bytes:
    return b"mail_outbox:" + mail_id.bytes


class MailOutbox:
    __slots__ = ("_kek", "_listeners", "_repo")

    def __init__(self, kek: KeyEncryptionKey) -> None:
        self._kek = kek
        self._repo = OutboxRepository()
        self._listeners: list[Callable[[], None]] = []

    def on_queued(self, listener: Callable[[], None]) -> None:
        """``listener()`` runs shortly after each enqueue (the sender's wake-up)."""
        self._listeners.append(listener)

    async def enqueue(
        self, conn: Connection, message: EmailMessage, *, kind: MailKind, user_id: UUID | None
    ) -> UUID:
        """Queue ``message`` (its ``To`` is the recipient) inside the caller's transaction."""
        mail_id = uuid.uuid4()
        data = message.as_bytes(policy=policy.SMTP)
        sealed = self._kek.seal(data, associated_data(mail_id))
        await self._repo.insert(conn, mail_id, kind, str(message["To"]), user_id, sealed)
        loop = asyncio.get_running_loop()
        for listener in self._listeners:
            loop.call_later(NUDGE_DELAY, listener)
        return mail_id
