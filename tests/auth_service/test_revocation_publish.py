"""The revocation publisher: committed revocations reach the stream within a second, and only those.

PostgreSQL is the truth (the ``revocations`` outbox, written in the revoking change's transaction);
the stream is its copy. So a change that rolls back publishes nothing, a change made while Redis
is down still succeeds and is published once Redis is back, a stream that Redis lost is published
again, and two replicas' publishers share the work without losing a row. Each test that stops
Redis owns that Redis (never the shared one); the shared one is touched only under the test's own
prefix.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any
from uuid import uuid4

from redis.asyncio import Redis

from auth_service.revocations.publisher import RevocationPublisher
from auth_service.revocations.service import Revoker
from devstack.embedded import EmbeddedRedis
from shared.auth.revocation_events import decode_entry, stream_key
from shared.db.pool import PostgresPool
from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    AuthClient,
    SettingsFactory,
    serving,
)
from tests.auth_service.revocation_stream import recorded, stream_entries, stream_entry
from tests.auth_service.test_throttling_login import metric
from tests.auth_service.test_token_grants import claims_of


def admin_headers(auth: AuthClient) -> dict[str, str]:
    return auth.bearer(auth.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])


def revoke_session(auth: AuthClient, sid: str, headers: dict[str, str]) -> None:
    response = auth.http.delete(f"/api/1/admin/sessions/{sid}", headers=headers)
    assert response.status_code == 204, response.text


def test_a_committed_revocation_is_on_the_stream_within_a_second(seeded: AuthClient) -> None:
    sid = claims_of(seeded.login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"])["sid"]
    headers = admin_headers(seeded)
    revoke_session(seeded, sid, headers)
    entry = stream_entry(seeded, "sid", sid, within=1.0)
    revocation = decode_entry(entry)
    assert revocation is not None
    assert abs(revocation.at - time.time()) < 5
    # kept as long as the longest access token can live (600 s by default), no shorter
    assert revocation.exp >= int(revocation.at) + 600


def test_a_change_that_rolls_back_publishes_nothing(seeded: AuthClient) -> None:
    headers = admin_headers(seeded)
    users = {
        u["email"]: u["id"] for u in seeded.http.get("/api/1/admin/users/", headers=headers).json()["items"]
    }
    refused = seeded.http.post(f"/api/1/admin/users/{users[ADMIN_EMAIL]}/disable", headers=headers)
    assert refused.status_code == 409  # the last admin: the change and its revocation roll back
    disabled = seeded.http.post(f"/api/1/admin/users/{users[AGENT_EMAIL]}/disable", headers=headers)
    assert disabled.status_code == 201, disabled.text
    stream_entry(seeded, "sub", users[AGENT_EMAIL])  # published after the refused change's turn
    assert ("sub", users[ADMIN_EMAIL]) not in recorded(seeded)
    assert all(e["value"] != users[ADMIN_EMAIL] for e in stream_entries(seeded))


def test_revoking_while_redis_is_down_succeeds_and_is_published_when_it_is_back(
    make_settings: SettingsFactory, own_redis: EmbeddedRedis
) -> None:
    with serving(make_settings(redis_url=own_redis.url)) as auth:
        auth.create_user(ADMIN_EMAIL, ADMIN_PASSWORD, ["admin"])
        auth.create_user(AGENT_EMAIL, AGENT_PASSWORD, ["agent"])
        headers = admin_headers(auth)
        before, during = (auth.login(AGENT_EMAIL, AGENT_PASSWORD) for _ in range(2))
        revoke_session(auth, claims_of(before["access_token"])["sid"], headers)
        stream_entry(auth, "sid", claims_of(before["access_token"])["sid"])
        own_redis.stop()

        revoke_session(auth, claims_of(during["access_token"])["sid"], headers)  # within the grace
        jti = claims_of(during["access_token"])["jti"]
        answer = auth.http.post(
            "/oauth/revoke", data={"token": during["access_token"], "client_id": "first-party"}
        )
        assert answer.status_code == 200, answer.text  # was 503 while the deny-list was unreachable
        assert ("jti", jti) in recorded(auth)
        deadline = time.monotonic() + 10
        while metric(auth, "redis_errors_total", operation="revocation_publish") == 0:
            assert time.monotonic() < deadline, "failed publishing rounds are counted"
            time.sleep(0.1)

        own_redis.start()  # empty: the stream and what it held are gone
        for kind, value in [("jti", jti), ("sid", claims_of(during["access_token"])["sid"])]:
            stream_entry(auth, kind, value, within=10)
        # what was published before the outage is published again
        stream_entry(auth, "sid", claims_of(before["access_token"])["sid"], within=5)


def test_a_stream_redis_lost_is_published_again(seeded: AuthClient) -> None:
    sid = claims_of(seeded.login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"])["sid"]
    revoke_session(seeded, sid, admin_headers(seeded))
    stream_entry(seeded, "sid", sid)
    key = stream_key(seeded.services.settings.redis.redis_prefix)
    assert seeded.call(seeded.services.redis.delete, key) == 1  # our own prefix's stream only
    stream_entry(seeded, "sid", sid, within=3)  # the next round (at most a second) finds it gone


async def stream_values(redis: Redis, key: str) -> list[str]:
    entries: list[Any] = await redis.xrange(key) or []
    return [fields[b"value"].decode() for _, fields in entries]


async def _revocations_in_one_transaction(pool: PostgresPool, count: int) -> list[str]:
    """``count`` session revocations committed together; their ``sid`` values."""
    families = [uuid4() for _ in range(count)]
    async with pool.acquire() as conn, conn.transaction():
        await Revoker(lambda: 600).sessions(conn, families)
    return [str(f) for f in families]


async def test_two_publishers_share_the_work_and_lose_no_row(
    auth_db: str, redis_url: str, redis_namespace: str
) -> None:
    prefix = f"{redis_namespace}:{secrets.token_hex(4)}:auth:"
    redis = Redis.from_url(redis_url)
    pool = PostgresPool(auth_db, min_size=1, max_size=2)
    publishers = [RevocationPublisher(auth_db, redis, prefix, longest_ttl=lambda: 600) for _ in range(2)]

    async def all_published() -> None:
        deadline = time.monotonic() + 20
        while await pool.fetchval("SELECT count(*) FROM revocations WHERE published_at IS NULL"):
            assert time.monotonic() < deadline, "every row published"
            await asyncio.sleep(0.05)

    try:
        # The stream exists already, as it does but on the first day (creating it concurrently
        # may send a batch twice, which is harmless: a replica cannot tell it from a lost stream).
        expected = await _revocations_in_one_transaction(pool, 1)
        await publishers[0].start()
        await all_published()
        await publishers[1].start()
        for _ in range(3):  # several commits, each waking both publishers at once
            expected += await _revocations_in_one_transaction(pool, 700)
        await all_published()
        values = await stream_values(redis, stream_key(prefix))
        assert sorted(values) == sorted(expected)  # each exactly once: none lost, none sent twice
    finally:
        for publisher in publishers:
            await publisher.stop()
        await redis.delete(stream_key(prefix))
        await redis.aclose()
        await pool.close()


async def test_the_stream_is_trimmed_to_what_verifiers_may_still_need(
    auth_db: str, redis_url: str, redis_namespace: str
) -> None:
    prefix = f"{redis_namespace}:{secrets.token_hex(4)}:auth:"
    key = stream_key(prefix)
    redis = Redis.from_url(redis_url)
    pool = PostgresPool(auth_db, min_size=1, max_size=2)
    for n in range(1, 301):  # entries from 1970: long past any token's life
        await redis.xadd(key, {"kind": "jti", "value": f"ancient-{n}", "at": "1.0", "exp": "2"}, id=f"{n}-0")
    publisher = RevocationPublisher(auth_db, redis, prefix, longest_ttl=lambda: 600)
    try:
        fresh = await _revocations_in_one_transaction(pool, 1)
        await publisher.start()
        deadline = time.monotonic() + 5
        while await redis.xlen(key) > 100:  # trimmed whole stream nodes (100 entries) at a time
            assert time.monotonic() < deadline, "the old entries are trimmed"
            await asyncio.sleep(0.05)
        assert fresh[0] in await stream_values(redis, key)
    finally:
        await publisher.stop()
        await redis.delete(key)
        await redis.aclose()
        await pool.close()


async def test_a_live_key_revocation_is_sent_again_before_the_stream_drops_it(
    auth_db: str, redis_url: str, redis_namespace: str
) -> None:
    """A compromised key can sign new tokens with any ``exp``: its revocation must stay on the
    stream for as long as it is kept (30 days), not only the longest token lifetime, so a verifier
    that starts next week still refuses the key."""
    prefix = f"{redis_namespace}:{secrets.token_hex(4)}:auth:"
    key = stream_key(prefix)
    redis = Redis.from_url(redis_url)
    pool = PostgresPool(auth_db, min_size=1, max_size=2)
    kid = f"compromised-{secrets.token_hex(4)}"
    # Revoked and published a day ago, still live (keys stay revoked 30 days); its stream entry
    # then was long since trimmed.
    await pool.execute(
        "INSERT INTO revocations (kind, value, revoked_at, expires_at, published_at)"
        " VALUES ('kid', $1, now() - interval '1 day', now() + interval '29 days', now() - interval '1 day')",
        kid,
    )
    publisher = RevocationPublisher(auth_db, redis, prefix, longest_ttl=lambda: 600)
    try:
        await redis.xadd(key, {"kind": "jti", "value": "recent", "at": str(time.time()), "exp": "2"})
        await publisher.start()
        deadline = time.monotonic() + 5
        while kid not in await stream_values(redis, key):
            assert time.monotonic() < deadline, "the key revocation is on the stream again"
            await asyncio.sleep(0.05)
    finally:
        await publisher.stop()
        await redis.delete(key)
        await redis.aclose()
        await pool.close()
