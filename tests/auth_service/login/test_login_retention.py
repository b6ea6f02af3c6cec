"""The purge removes the browser front door's rows a day past their end, and keeps the rest."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest

from shared.db.pool import PostgresPool
from tests.auth_service.test_retention import DAY, OPERATOR, Database, purge_of

HOUR = timedelta(hours=1)


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


async def user(db: Database) -> UUID:
    user_id: UUID = await db.fetchval(
        "INSERT INTO users (email, password_hash) VALUES ('u' || gen_random_uuid() || '@example.com', 'x') "
        "RETURNING id"
    )
    return user_id


async def session(db: Database, user_id: UUID, *, expires: timedelta, ended: timedelta | None = None) -> UUID:
    session_id: UUID = await db.fetchval(
        "INSERT INTO browser_sessions (digest, user_id, auth_time, amr, acr, expires_at, ended_at) "
        "VALUES (sha256(gen_random_uuid()::text::bytea), $1, $2, '{pwd}', '1', $3, $4) RETURNING id",
        user_id,
        db.at(-2 * DAY),
        db.at(expires),
        db.at(ended) if ended is not None else None,
    )
    return session_id


async def request(db: Database, expires: timedelta) -> UUID:
    request_id: UUID = await db.fetchval(
        "INSERT INTO authorization_requests (client_id, parameters, expires_at) "
        "VALUES ('auth-cli', '{}'::jsonb, $1) RETURNING id",
        db.at(expires),
    )
    return request_id


async def code(db: Database, user_id: UUID, session_id: UUID | None, expires: timedelta) -> bytes:
    digest: bytes = await db.fetchval(
        "INSERT INTO authorization_codes (digest, client_id, user_id, browser_session_id, redirect_uri, "
        "scope, code_challenge, auth_time, amr, acr, expires_at) "
        "VALUES (sha256(gen_random_uuid()::text::bytea), 'auth-cli', $1, $2, 'http://127.0.0.1/callback', "
        "'openid', repeat('a', 43), $3, '{pwd}', '1', $4) RETURNING digest",
        user_id,
        session_id,
        db.at(-2 * DAY),
        db.at(expires),
    )
    return digest


async def remaining(db: Database, table: str) -> int:
    count: int = await db.fetchval(f"SELECT count(*) FROM {table}")
    return count


async def test_login_rows_go_a_day_after_their_end(db: Database, pool: PostgresPool) -> None:
    person = await user(db)
    ended_long_ago = await session(db, person, expires=DAY, ended=-DAY - HOUR)
    await session(db, person, expires=DAY, ended=-HOUR)  # ended recently: kept
    await session(db, person, expires=-DAY - HOUR)  # absolute lifetime over a day ago
    live = await session(db, person, expires=DAY)
    await request(db, -DAY - HOUR)
    await request(db, -HOUR)  # kept a day
    await code(db, person, live, -DAY - HOUR)
    await code(db, person, live, -HOUR)
    await code(db, person, ended_long_ago, DAY)  # goes with its session (foreign key)
    await db.execute(
        "INSERT INTO device_authorizations (device_digest, user_code, client_id, scope, interval_seconds, "
        "expires_at) VALUES "
        "(sha256(gen_random_uuid()::text::bytea), 'BCDFGHJK', 'auth-cli', 'openid', 5, $1), "
        "(sha256(gen_random_uuid()::text::bytea), 'BCDFGHJL', 'auth-cli', 'openid', 5, $2)",
        db.at(-DAY - HOUR),
        db.at(HOUR),
    )
    await db.execute(
        "INSERT INTO webauthn_spent_challenges (digest, expires_at) VALUES "
        "(sha256('spent long ago'), $1), (sha256('spent a minute ago'), $2)",
        db.at(-DAY - HOUR),
        db.at(HOUR),
    )
    report = await purge_of(pool, db).purge(OPERATOR)
    assert report is not None
    assert (
        report.login_rows == 2 + 1 + 1 + 1 + 1
    )  # sessions, request, code (the cascaded one not counted), device, spent passkey challenge
    assert await remaining(db, "browser_sessions") == 2
    assert await remaining(db, "authorization_requests") == 1
    assert await remaining(db, "authorization_codes") == 1
    assert await remaining(db, "device_authorizations") == 1
    assert await remaining(db, "webauthn_spent_challenges") == 1, "kept until a day past its expiry"
    assert await db.fetchval("SELECT count(*) FROM browser_sessions WHERE id = $1", live) == 1
    again = await purge_of(pool, db).purge(OPERATOR)
    assert again is not None
    assert again.login_rows == 0
