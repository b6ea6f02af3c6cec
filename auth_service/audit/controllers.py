"""``/api/1/admin/audit-events``: the audit trail, newest first (scope ``users:manage``)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromQuery, Parameter

from auth_service.audit.repository import AuditEvent
from auth_service.audit.service import AuditTrail
from auth_service.openapi_problems import ADMIN_ERRORS

__all__ = ["AdminAuditController"]


class AuditPage(msgspec.Struct, frozen=True):
    items: list[AuditEvent]
    next_before: int | None = None


class AdminAuditController(Controller):
    path = "/audit-events"
    tags = ["Admin: audit"]

    @get(
        "/", operation_id="adminListAuditEvents", responses=ADMIN_ERRORS, summary="Audit events, newest first"
    )
    async def list_events(
        self,
        state: State,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        before: Annotated[
            int | None, Parameter(ge=1, le=2**63 - 1, description="Only events with a smaller id (paging)")
        ] = None,
        action: FromQuery[str | None] = None,
        target_id: FromQuery[str | None] = None,
        actor: FromQuery[str | None] = None,
    ) -> AuditPage:
        audit: AuditTrail = state.audit
        items = await audit.list(
            before_id=before, action=action, target_id=target_id, actor=actor, limit=limit
        )
        return AuditPage(items=items, next_before=items[-1].id if len(items) == limit else None)
