"""The last-admin rule: after every change, some active account can still administer everything.

"Administer everything" is holding every one of ``ADMIN_SCOPES`` through one's roles. A transaction
that could break it (a role's scopes, a role's deletion, a user's status, roles or existence) first
takes ``LastAdminRule.guard(conn)``: the administration lock, so such changes happen one at a time
(of two admins disabling each other at once, the second sees the first's change), and whether an
administrator exists now. After its change in the database it calls ``guard.check()``: one query,
and ``LastAdmin`` rolls the transaction back, revocations recorded by the change included (they
are rows of the same transaction, published only once it commits).

Only a change that *breaks* the rule is refused: a database with no administrator yet (before
``users bootstrap-admin``, or broken by hand and awaiting ``users recover-admin``) still lets
unrelated accounts be changed.
"""

from __future__ import annotations

from uuid import UUID

from auth_service.errors import LastAdmin
from auth_service.powers.service import ADMIN_SCOPES, PowersService
from auth_service.users.repository import UserRepository
from shared.db.pool import Connection

__all__ = ["AdministrationGuard", "LastAdminRule"]

_ADMIN_SCOPES = sorted(ADMIN_SCOPES)


class AdministrationGuard:
    """Held for one transaction, on its connection, from before its change to the end."""

    __slots__ = ("_conn", "_had_administrator", "_users")

    def __init__(self, conn: Connection, users: UserRepository, *, had_administrator: bool) -> None:
        self._conn = conn
        self._users = users
        self._had_administrator = had_administrator

    async def check(self, *, without: UUID | None = None) -> None:
        """``LastAdmin`` if the change left no administrator; ``without``: as if that account were
        already gone (a deletion is checked before its sessions are revoked and its row removed)."""
        if self._had_administrator and not await self._users.administrator_exists(
            self._conn, _ADMIN_SCOPES, without=without
        ):
            raise LastAdmin()


class LastAdminRule:
    __slots__ = ("_powers", "_users")

    def __init__(self) -> None:
        self._powers = PowersService()
        self._users = UserRepository()

    async def administrator_exists(self, conn: Connection) -> bool:
        return await self._users.administrator_exists(conn, _ADMIN_SCOPES)

    async def guard(self, conn: Connection) -> AdministrationGuard:
        """Lock administration until the transaction on ``conn`` ends; remember whether it had an admin."""
        await self._powers.lock_administration(conn)
        exists = await self.administrator_exists(conn)
        return AdministrationGuard(conn, self._users, had_administrator=exists)
