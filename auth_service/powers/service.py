"""Bounded admin powers: nobody grants a scope or resource it does not hold itself.

An actor is a user (its ``sub`` is a UUID: the scopes of its roles while it is active), a client
(its registered scopes and resources) or the ``operator`` (the CLI, run by someone with database
access: unbounded). The admin scopes are the auth service's own resource's, one per area.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import msgspec

from auth_service.audit.service import Actor
from auth_service.errors import BeyondOwnPowers, InvalidField
from auth_service.powers.repository import PowersRepository
from shared.db.pool import Connection

__all__ = ["ADMIN_SCOPES", "AUTH_RESOURCE", "OPERATOR_ID", "Powers", "PowersService"]

AUTH_RESOURCE = "auth"
"""The identifier of the auth service's own API (admin and self-service) as a resource server."""
ADMIN_USERS = "admin:users"
ADMIN_ROLES = "admin:roles"
ADMIN_CLIENTS = "admin:clients"
ADMIN_RESOURCES = "admin:resources"
ADMIN_KEYS = "admin:keys"
ADMIN_AUDIT = "admin:audit"
ADMIN_SCOPES = frozenset({ADMIN_USERS, ADMIN_ROLES, ADMIN_CLIENTS, ADMIN_RESOURCES, ADMIN_KEYS, ADMIN_AUDIT})
"""Holding all of them is "able to administer everything" (the last-admin rule keeps one)."""
OPERATOR_ID = "operator"


class Powers(msgspec.Struct, frozen=True):
    """What one actor holds; ``None`` means unbounded (the operator)."""

    scopes: frozenset[str] | None
    resources: frozenset[str] | None

    def require_scopes(self, wanted: Iterable[str], field: str) -> None:
        if self.scopes is None:
            return
        beyond = sorted(set(wanted) - self.scopes)
        if beyond:
            raise BeyondOwnPowers(field, f"You cannot grant scopes you do not hold: {' '.join(beyond)}.")

    def require_resources(self, wanted: Iterable[str], field: str) -> None:
        if self.resources is None:
            return
        beyond = sorted(set(wanted) - self.resources)
        if beyond:
            raise BeyondOwnPowers(field, f"You cannot grant resources you do not hold: {' '.join(beyond)}.")


class PowersService:
    """Reads on the caller's connection, so the check and the change share one transaction."""

    __slots__ = ("_repo",)

    def __init__(self) -> None:
        self._repo = PowersRepository()

    async def of(self, conn: Connection, actor: Actor) -> Powers:
        if actor.id == OPERATOR_ID:
            return Powers(scopes=None, resources=None)
        try:
            user_id = UUID(actor.id or "")
        except ValueError:
            holdings = await self._repo.client_holdings(conn, actor.id or "")
            scopes, resources = holdings or (set(), set())
            return Powers(scopes=frozenset(scopes), resources=frozenset(resources))
        held = await self._repo.user_scopes(conn, user_id)
        owners = await self._repo.owners(conn, held) if held else set()
        return Powers(scopes=frozenset(held), resources=frozenset(owners | {AUTH_RESOURCE}))

    async def known_scopes(self, conn: Connection, scopes: Iterable[str], field: str) -> list[str]:
        """``scopes`` sorted and de-duplicated, every one owned by a registered resource server."""
        wanted = sorted(set(scopes))
        unknown = sorted(set(wanted) - await self._repo.known_scopes(conn, wanted))
        if unknown:
            raise InvalidField(field, f"Unknown scopes: {' '.join(unknown)} (no resource server owns them).")
        return wanted

    async def every_scope(self, conn: Connection) -> set[str]:
        """Every scope some registered resource server owns (what a full administrator holds)."""
        return await self._repo.all_scopes(conn)

    async def lock_administration(self, conn: Connection) -> None:
        await self._repo.lock_administration(conn)
