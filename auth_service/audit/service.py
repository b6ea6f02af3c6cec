"""Recording audit events: one call per event, never carrying a password or token.

``AuditTrail.record`` writes on the caller's connection when given one (so the event commits or
rolls back with the change it describes), else on its own.
"""

from __future__ import annotations

from typing import Any

import msgspec

from auth_service.audit.repository import AuditRepository
from auth_service.audit.schemas import AuditPage
from shared.db.pool import Connection, PostgresPool

__all__ = ["Actor", "AuditTrail"]


class Actor(msgspec.Struct, frozen=True):
    """Who acts and from where: a user id, a client id, or ``system``; the request's source IP."""

    id: str | None
    source_ip: str | None = None


class AuditTrail:
    __slots__ = ("_pool", "_repo")

    def __init__(self, pool: PostgresPool) -> None:
        self._pool = pool
        self._repo = AuditRepository()

    async def record(
        self,
        action: str,
        actor: Actor,
        *,
        outcome: str = "success",
        target_type: str | None = None,
        target_id: str | None = None,
        details: dict[str, Any] | None = None,
        conn: Connection | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {
            "action": action,
            "outcome": outcome,
            "actor": actor.id,
            "target_type": target_type,
            "target_id": target_id,
            "source_ip": actor.source_ip,
            "details": details or {},
        }
        if conn is not None:
            await self._repo.insert(conn, **kwargs)
            return
        async with self._pool.acquire() as own:
            await self._repo.insert(own, **kwargs)

    async def page(
        self,
        *,
        before_id: int | None,
        action: str | None,
        target_id: str | None,
        actor: str | None,
        limit: int,
    ) -> AuditPage:
        """Newest first; a full page names the id to continue ``before``, a short one is the last."""
        async with self._pool.acquire() as conn:
            items = await self._repo.page(
                conn, before_id=before_id, action=action, target_id=target_id, actor=actor, limit=limit
            )
        return AuditPage(items=items, next_before=items[-1].id if len(items) == limit else None)
