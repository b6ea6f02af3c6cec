"""The audit API's bodies: events as the admin API shows them, newest first, a page at a time.

The repository builds ``AuditEvent`` straight from its rows (a row is exactly what the API shows),
so the API's shape is declared here, once, and not by the table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

__all__ = ["AuditEvent", "AuditPage"]


class AuditEvent(msgspec.Struct, frozen=True):
    id: int
    occurred_at: datetime
    action: str
    outcome: str
    actor: str | None
    target_type: str | None
    target_id: str | None
    source_ip: str | None
    details: dict[str, Any]


class AuditPage(msgspec.Struct, frozen=True):
    items: list[AuditEvent]
    next_before: int | None = None
