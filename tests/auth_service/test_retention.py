"""The retention purge: what is past retention goes, what is inside stays, one purge at a time.

Rows are written straight into a fresh database at times relative to one instant, and the purge
is given that instant as its clock; the CLI and the service's own schedule are run as deployed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest

from auth_service.audit.service import Actor, AuditTrail
from auth_service.powers.service import OPERATOR_ID
from auth_service.retention.repository import PURGE_LOCK
from auth_service.retention.service import PurgeReport, RetentionPurge
from shared.db.pool import PostgresPool
from tests.auth_service.conftest import SettingsFactory, serving
from tests.auth_service.test_cli import cli_env, run

OPERATOR = Actor(id=OPERATOR_ID)
DAY = timedelta(days=1)


class Database(asyncpg.Connection):
    """A connection that knows the test's instant (``now``): rows are written relative to it."""

    now: datetime

    def at(self, offset: timedelta) -> datetime:
        return self.now + offset


@pytest.fixture
async def db(auth_db: str) -> AsyncIterator[Database]:
    conn: Database = await asyncpg.connect(auth_db, connection_class=Database)
    conn.now = datetime.fromtimestamp(time.time(), UTC)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def pool(auth_db: str) -> AsyncIterator[PostgresPool]:
    pool = PostgresPool(auth_db, min_size=1, max_size=3)
    await pool.open()
    try:
        yield pool
    finally:
        await pool.close()


def purge_of(
    pool: PostgresPool, db: Database, *, audit_days: int = 400, grace: int = 10, batch: int = 5000
) -> RetentionPurge:
    return RetentionPurge(
        pool,
        AuditTrail(pool),
        audit_retention_days=audit_days,
        reuse_grace=grace,
        clock=db.now.timestamp,
        batch=batch,
    )


async def family(db: Database, expires: timedelta, revoked: timedelta | None = None) -> UUID:
    user_id = await db.fetchval(
        "INSERT INTO users (email, password_hash) VALUES ('u' || gen_random_uuid() || '@example.com', 'x') "
        "RETURNING id"
    )
    family_id: UUID = await db.fetchval(
        "INSERT INTO refresh_families (user_id, client_id, scope, expires_at, revoked_at) "
        "VALUES ($1, 'first-party', 'customers:read', $2, $3) RETURNING id",
        user_id,
        db.at(expires),
        None if revoked is None else db.at(revoked),
    )
    return family_id


async def token(
    db: Database,
    family_id: UUID,
    name: str,
    expires: timedelta,
    used: timedelta | None = None,
    sealed: bool = False,
) -> None:
    await db.execute(
        "INSERT INTO refresh_tokens (digest, family_id, expires_at, used_at, access_jti, access_expires_at, "
        "successor_sealed) VALUES ($1, $2, $3, $4, $5, $3, $6)",
        name.encode(),
        family_id,
        db.at(expires),
        None if used is None else db.at(used),
        name,
        b"sealed" if sealed else None,
    )


async def names(db: Database, query: str) -> set[str]:
    return {str(row[0]) for row in await db.fetch(query)}


async def tokens(db: Database) -> set[str]:
    return {row[0].decode() for row in await db.fetch("SELECT digest FROM refresh_tokens")}


async def seed_sessions(db: Database) -> dict[str, UUID]:
    """Sessions and tokens either side of the margin (a day past expiry or revocation)."""
    families = {
        "live": await family(db, 30 * DAY),
        "expired long ago": await family(db, -2 * DAY),
        "expired recently": await family(db, -timedelta(hours=1)),
        "revoked long ago": await family(db, 30 * DAY, revoked=-2 * DAY),
        "revoked recently": await family(db, 30 * DAY, revoked=-timedelta(hours=1)),
    }
    await token(db, families["live"], "live", 10 * DAY)
    await token(db, families["live"], "expired long ago", -2 * DAY, used=-3 * DAY)
    await token(db, families["live"], "expired recently", -timedelta(hours=1))
    await token(
        db, families["live"], "used within the grace", 10 * DAY, used=-timedelta(seconds=5), sealed=True
    )
    await token(
        db, families["live"], "used past the grace", 10 * DAY, used=-timedelta(seconds=60), sealed=True
    )
    await token(db, families["expired long ago"], "of a session expired long ago", -2 * DAY)
    await token(db, families["expired recently"], "of a session expired recently", -timedelta(hours=1))
    await token(db, families["revoked long ago"], "of a session revoked long ago", 10 * DAY, used=-3 * DAY)
    await token(db, families["revoked long ago"], "its successor", 10 * DAY)
    await token(db, families["revoked recently"], "of a session revoked recently", 10 * DAY)
    return families


async def seed_revocations_and_audit(db: Database) -> None:
    """A revocation is kept until expires_at + 300 s (MAX_LEEWAY) + 60 s (REVOCATION_MARGIN)."""
    for value, expires in (("spent", -400), ("still needed", -300), ("live", 600)):
        await db.execute(
            "INSERT INTO revocations (kind, value, expires_at) VALUES ('jti', $1, $2)",
            value,
            db.at(timedelta(seconds=expires)),
        )
    for action, days in (("old.event", -401), ("recent.event", -399)):
        await db.execute(
            "INSERT INTO audit_events (occurred_at, action, outcome) VALUES ($1, $2, 'success')",
            db.at(timedelta(days=days)),
            action,
        )


async def test_rows_past_retention_go_and_rows_inside_stay(db: Database, pool: PostgresPool) -> None:
    families = await seed_sessions(db)
    await seed_revocations_and_audit(db)

    report = await purge_of(pool, db).purge(OPERATOR)

    assert report == PurgeReport(
        refresh_tokens=4, sessions=2, revocations=1, audit_events=1, sealed_successors=1
    )
    assert await names(db, "SELECT id FROM refresh_families") == {
        str(families[name]) for name in ("live", "expired recently", "revoked recently")
    }
    assert await tokens(db) == {
        "live",
        "expired recently",
        "used within the grace",
        "used past the grace",
        "of a session expired recently",
        "of a session revoked recently",
    }
    sealed = await names(
        db, "SELECT convert_from(digest, 'UTF8') FROM refresh_tokens WHERE successor_sealed IS NOT NULL"
    )
    assert sealed == {"used within the grace"}
    assert await names(db, "SELECT value FROM revocations") == {"still needed", "live"}
    assert await names(db, "SELECT action FROM audit_events WHERE action LIKE '%.event'") == {"recent.event"}
    audited = await db.fetchrow("SELECT actor, details FROM audit_events WHERE action = 'retention.purge'")
    assert audited is not None
    assert audited["actor"] == OPERATOR_ID
    assert json.loads(audited["details"]) == {
        "refresh_tokens": 4,
        "sessions": 2,
        "revocations": 1,
        "audit_events": 1,
        "sealed_successors": 1,
    }
    again = await purge_of(pool, db).purge(OPERATOR)
    assert again == PurgeReport(
        refresh_tokens=0, sessions=0, revocations=0, audit_events=0, sealed_successors=0
    )


async def test_every_batch_runs_until_nothing_is_left(db: Database, pool: PostgresPool) -> None:
    for number in range(7):
        await db.execute(
            "INSERT INTO revocations (kind, value, expires_at) VALUES ('jti', $1, $2)",
            f"j{number}",
            db.at(-DAY),
        )
        await token(db, await family(db, -2 * DAY), f"t{number}", -2 * DAY)

    report = await purge_of(pool, db, batch=2).purge(OPERATOR)

    assert report is not None
    assert (report.revocations, report.sessions, report.refresh_tokens) == (7, 7, 7)
    assert await db.fetchval("SELECT count(*) FROM revocations") == 0
    assert await db.fetchval("SELECT count(*) FROM refresh_families") == 0


async def test_audit_retention_zero_keeps_every_audit_event(db: Database, pool: PostgresPool) -> None:
    await seed_revocations_and_audit(db)
    report = await purge_of(pool, db, audit_days=0).purge(OPERATOR)
    assert report is not None
    assert report.audit_events == 0
    assert await names(db, "SELECT action FROM audit_events WHERE action LIKE '%.event'") == {
        "old.event",
        "recent.event",
    }


async def test_a_second_purge_while_one_holds_the_lock_does_nothing(
    db: Database, pool: PostgresPool, auth_db: str
) -> None:
    await seed_revocations_and_audit(db)
    other = await asyncpg.connect(auth_db)
    try:
        async with other.transaction():  # another replica's round, under way
            assert await other.fetchval("SELECT pg_try_advisory_xact_lock($1)", PURGE_LOCK)
            assert await purge_of(pool, db).purge(OPERATOR) is None
            assert await db.fetchval("SELECT count(*) FROM revocations") == 3
            assert (
                await db.fetchval("SELECT count(*) FROM audit_events WHERE action = 'retention.purge'") == 0
            )
    finally:
        await other.close()
    after = await purge_of(pool, db).purge(OPERATOR)  # the lock went with that transaction
    assert after is not None
    assert after.revocations == 1


async def test_concurrent_purges_remove_each_row_once(db: Database, pool: PostgresPool) -> None:
    await seed_sessions(db)
    await seed_revocations_and_audit(db)
    reports = await asyncio.gather(*(purge_of(pool, db).purge(OPERATOR) for _ in range(3)))
    done = [r for r in reports if r is not None]
    assert sum(r.refresh_tokens for r in done) == 4
    assert sum(r.sessions for r in done) == 2
    assert sum(r.audit_events for r in done) == 1


async def test_a_replica_skips_its_round_when_another_purged_within_half_an_interval(
    db: Database, pool: PostgresPool
) -> None:
    assert await purge_of(pool, db).purge(Actor(id="system"), unless_within=1800) is not None
    await seed_revocations_and_audit(db)
    assert await purge_of(pool, db).purge(Actor(id="system"), unless_within=1800) is None
    assert await db.fetchval("SELECT count(*) FROM revocations") == 3
    operator_run = await purge_of(pool, db).purge(OPERATOR)  # the CLI always purges
    assert operator_run is not None
    assert operator_run.revocations == 1


async def test_cli_purge_prints_what_it_removed(
    db: Database, auth_db: str, redis_url: str, redis_namespace: str
) -> None:
    await seed_sessions(db)
    await seed_revocations_and_audit(db)
    env = cli_env(auth_db, redis_url, redis_namespace)
    done = await asyncio.to_thread(run, env, "purge")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "auth-service: purged 4 refresh token(s), 2 session(s), 1 revocation(s), 1 audit event(s); "
        "cleared 1 sealed successor(s)"
    )
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock($1)", PURGE_LOCK)
        busy = await asyncio.to_thread(run, env, "purge")
    assert busy.returncode == 0, busy.stderr
    assert busy.stdout.strip() == "auth-service: another purge is running; nothing done"
    unreachable = await asyncio.to_thread(
        run, {**env, "AUTH_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/auth"}, "purge"
    )
    assert unreachable.returncode == 1
    assert "database not reachable" in unreachable.stderr


def test_the_service_purges_by_itself_as_system(make_settings: SettingsFactory, auth_db: str) -> None:
    with serving(make_settings(purge_interval=1)) as auth:

        async def purged_by_system() -> bool:
            conn = await asyncpg.connect(auth_db)
            try:
                for _ in range(100):
                    actor = await conn.fetchval(
                        "SELECT actor FROM audit_events WHERE action = 'retention.purge'"
                    )
                    if actor is not None:
                        return bool(actor == "system")
                    await asyncio.sleep(0.1)
                return False
            finally:
                await conn.close()

        assert auth.call(purged_by_system)
