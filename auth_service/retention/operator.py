"""``auth-service purge``: one purge round now, audited as the ``operator`` (for a CronJob, or by
hand), under the same lock as the service's own rounds."""

from __future__ import annotations

from auth_service.audit.service import Actor, AuditTrail
from auth_service.powers.service import OPERATOR_ID
from auth_service.retention.service import PurgeReport, RetentionPurge
from auth_service.settings import AuthSettings
from shared.db.pool import PostgresPool

__all__ = ["purge_now"]

OPERATOR = Actor(id=OPERATOR_ID)


async def purge_now(settings: AuthSettings) -> PurgeReport | None:
    """``None`` when another purge (a replica's round) is running."""
    pool = PostgresPool(settings.database.database_url, min_size=1, max_size=2)  # the lock + the work
    try:
        purge = RetentionPurge(
            pool,
            AuditTrail(pool),
            audit_retention_days=settings.retention.audit_retention_days,
            reuse_grace=settings.tokens.refresh_reuse_grace,
        )
        return await purge.purge(OPERATOR)
    finally:
        await pool.close()
