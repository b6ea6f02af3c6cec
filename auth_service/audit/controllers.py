"""``/api/1/admin/audit-events``: the audit trail, newest first (scope ``admin:audit``)."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get
from litestar.params import FromQuery, Parameter

from auth_service.audit.schemas import AuditPage
from auth_service.audit.service import AuditTrail
from auth_service.openapi_problems import ADMIN_ERRORS

__all__ = ["admin_audit_router"]


def admin_audit_router(audit: AuditTrail) -> Router:
    """The audit routes over ``audit``, to be mounted under the admin router (which checks scopes)."""

    @get(
        "/", operation_id="adminListAuditEvents", responses=ADMIN_ERRORS, summary="Audit events, newest first"
    )
    async def list_events(
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        before: Annotated[
            int | None, Parameter(ge=1, le=2**63 - 1, description="Only events with a smaller id (paging)")
        ] = None,
        action: FromQuery[str | None] = None,
        target_id: FromQuery[str | None] = None,
        actor: FromQuery[str | None] = None,
    ) -> AuditPage:
        return await audit.page(
            before_id=before, action=action, target_id=target_id, actor=actor, limit=limit
        )

    return Router("/audit-events", route_handlers=[list_events], tags=["Admin: audit"])
