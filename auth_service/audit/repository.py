"""The ``audit_events`` table: append and read, never update."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from auth_service.audit.schemas import AuditEvent

__all__ = ["AuditRepository"]

_INSERT = """
INSERT INTO audit_events (action, outcome, actor, target_type, target_id, source_ip, details)
VALUES ($1, $2, $3, $4, $5, $6::inet, $7::jsonb)
"""
_LIST = """
SELECT id, occurred_at, action, outcome, actor, target_type, target_id, host(source_ip) AS source_ip, details
FROM audit_events
WHERE ($1::bigint IS NULL OR id < $1) AND ($2::text IS NULL OR action = $2)
  AND ($3::text IS NULL OR target_id = $3) AND ($4::text IS NULL OR actor = $4)
ORDER BY id DESC LIMIT $5
"""


class AuditRepository:
    __slots__ = ()

    async def insert(
        self,
        conn: asyncpg.Connection,
        *,
        action: str,
        outcome: str,
        actor: str | None,
        target_type: str | None,
        target_id: str | None,
        source_ip: str | None,
        details: dict[str, Any],
    ) -> None:
        await conn.execute(
            _INSERT,
            action,
            outcome,
            actor,
            target_type,
            target_id,
            source_ip,
            msgspec.json.encode(details).decode(),
        )

    async def page(
        self,
        conn: asyncpg.Connection,
        *,
        before_id: int | None,
        action: str | None,
        target_id: str | None,
        actor: str | None,
        limit: int,
    ) -> list[AuditEvent]:
        rows = await conn.fetch(_LIST, before_id, action, target_id, actor, limit)
        return [AuditEvent(**{**dict(r), "details": msgspec.json.decode(r["details"])}) for r in rows]
