"""Where mail plugs into account changes: a hook ``UserService`` calls inside each change's transaction.

Registration and a change of address ask for the new address to be verified; every password
change (self-service or by an admin) is a notice to the account's address. The hook gets the
change's own connection, so its mail is queued exactly when the change commits. The mail
contexts provide the real hook (``mail_wiring.AccountMailHooks``); ``NoAccountMail`` sends nothing.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from shared.db.pool import Connection

__all__ = ["AccountMail", "NoAccountMail"]


class AccountMail(Protocol):
    async def email_to_verify(self, conn: Connection, user_id: UUID, email: str, locale: str | None) -> None:
        """A new or changed, unverified ``email`` of the account: send it a verification link."""

    async def password_changed(self, conn: Connection, user_id: UUID) -> None:
        """The account's password changed: tell its address."""


class NoAccountMail:
    __slots__ = ()

    async def email_to_verify(self, conn: Connection, user_id: UUID, email: str, locale: str | None) -> None:
        return None

    async def password_changed(self, conn: Connection, user_id: UUID) -> None:
        return None
