"""What the purge removes, and when: ``RetentionPurge.purge`` (one round, under the purge lock).

- Refresh tokens that expired, and sessions (refresh-token families) that expired or were revoked,
  with their tokens, once a day past that (``ENDED_MARGIN``): nothing reads them any more (a token
  that old is refused as unknown instead of as expired), and the audit trail keeps the history.
- Revocations once no verifier can need them: ``expires_at + MAX_LEEWAY + REVOCATION_MARGIN``
  (``shared/auth/revocation_events.py``), when every token they concern is expired everywhere.
- Audit events older than ``AUTH_AUDIT_RETENTION_DAYS`` (0 keeps them).
- The sealed successor of a refresh token used longer ago than the reuse grace: it can never be
  answered again, so it is not kept.
- The browser front door's rows a day past their end: authorization requests and codes and device
  authorizations past their expiry, browser sessions past their end or absolute expiry.

Signing keys are not touched: key rotation removes retired ones itself. Each kind goes in batches
(``BATCH`` rows per statement, each statement its own transaction), so no row stays locked long,
while the advisory lock, held in a transaction of its own on a second connection, keeps other
replicas (and the CLI) out until the round is done. The round is audited with its counts.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import msgspec

from auth_service.audit.service import Actor, AuditTrail
from auth_service.retention.repository import LOGIN_TABLES, PURGE_ACTION, RetentionRepository
from shared.auth.revocation_events import MAX_LEEWAY, REVOCATION_MARGIN
from shared.db.pool import Connection, PostgresPool

__all__ = ["BATCH", "ENDED_MARGIN", "PurgeReport", "RetentionPurge"]

BATCH = 5000
"""Rows one statement removes at most."""
ENDED_MARGIN = timedelta(days=1)
"""How long an expired refresh token or an ended session is kept before it goes."""

Batch = Callable[[Connection, datetime, int], Awaitable[int]]


class PurgeReport(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """How many rows of each kind one round removed (or, for sealed successors, cleared)."""

    refresh_tokens: int
    sessions: int
    revocations: int
    audit_events: int
    sealed_successors: int
    login_rows: int = 0
    """Authorization requests, codes, device authorizations and browser sessions."""

    def describe(self) -> str:
        return (
            f"{self.refresh_tokens} refresh token(s), {self.sessions} session(s), "
            f"{self.revocations} revocation(s), {self.audit_events} audit event(s); "
            f"cleared {self.sealed_successors} sealed successor(s)"
            + (f"; {self.login_rows} browser login row(s)" if self.login_rows else "")
        )


class RetentionPurge:
    __slots__ = ("_audit", "_audit_days", "_batch", "_clock", "_grace", "_pool", "_repo")

    def __init__(
        self,
        pool: PostgresPool,
        audit: AuditTrail,
        *,
        audit_retention_days: int,
        reuse_grace: int,
        clock: Callable[[], float] = time.time,
        batch: int = BATCH,
    ) -> None:
        self._pool = pool
        self._audit = audit
        self._audit_days = audit_retention_days
        self._grace = reuse_grace
        self._clock = clock
        self._batch = batch
        self._repo = RetentionRepository()

    async def purge(self, actor: Actor, *, unless_within: float = 0) -> PurgeReport | None:
        """One round; ``None`` (nothing done) while another purge holds the lock, or when one
        finished less than ``unless_within`` seconds ago (replicas' rounds: one per interval)."""
        now = datetime.fromtimestamp(self._clock(), UTC)
        async with self._pool.acquire() as held, held.transaction():
            if not await self._repo.try_lock(held):
                return None
            if unless_within and await self._repo.purged_since(held, now - timedelta(seconds=unless_within)):
                return None
            async with self._pool.acquire() as conn:
                report = await self._remove(conn, now)
                await self._audit.record(
                    PURGE_ACTION,
                    actor,
                    target_type="retention",
                    details=msgspec.to_builtins(report),
                    conn=conn,
                )
        return report

    async def _remove(self, conn: Connection, now: datetime) -> PurgeReport:
        repo = self._repo
        ended = now - ENDED_MARGIN
        tokens = await self._all(repo.tokens_of_ended_sessions, conn, ended)
        sessions = await self._all(repo.ended_sessions, conn, ended)
        tokens += await self._all(repo.expired_tokens, conn, ended)
        spent = now - timedelta(seconds=MAX_LEEWAY + REVOCATION_MARGIN)
        revocations = await self._all(repo.spent_revocations, conn, spent)
        audit_events = 0
        if self._audit_days:
            audit_events = await self._all(
                repo.old_audit_events, conn, now - timedelta(days=self._audit_days)
            )
        sealed = await self._all(repo.sealed_successors, conn, now - timedelta(seconds=self._grace))
        login_rows = 0
        for table in LOGIN_TABLES:
            login_rows += await self._all(partial(repo.expired_login_rows, table=table), conn, ended)
        return PurgeReport(
            refresh_tokens=tokens,
            sessions=sessions,
            revocations=revocations,
            audit_events=audit_events,
            sealed_successors=sealed,
            login_rows=login_rows,
        )

    async def _all(self, batch: Batch, conn: Connection, cutoff: datetime) -> int:
        """Batches until one comes back short: each statement commits on its own."""
        total = 0
        while True:
            removed = await batch(conn, cutoff, self._batch)
            total += removed
            if removed < self._batch:
                return total
