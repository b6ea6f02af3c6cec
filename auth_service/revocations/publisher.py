"""Every auth replica runs one publisher: committed revocations go from PostgreSQL to the stream.

The outbox table is the truth and the stream its copy, so nothing here can lose or invent a
revocation: a round claims unpublished rows (``FOR UPDATE SKIP LOCKED``: replicas share the work
and never wait on each other), adds them to the stream in one ``MULTI`` pipeline and marks them
published in the same transaction. If Redis fails the transaction rolls back and the rows wait for
the next round (logged, counted, retried with backoff); if the commit fails after the ``XADD`` a
row is sent twice, which a set of revocations does not mind.

The publisher is woken by the ``NOTIFY`` a committed insert sends (on a dedicated connection:
pooled ones keep no ``LISTEN``), and polls every ``poll_interval`` seconds in case one is missed.
Each pipeline starts with ``EXISTS``: a stream that is gone (Redis restarted empty) is found by
whichever publisher would recreate it, and every row a verifier must still hold is republished.
Now and then the stream is trimmed to what verifiers may still need.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from auth_service.revocations.repository import RevocationRepository
from shared.auth.revocation_events import (
    MAX_LEEWAY,
    REVOCATION_MARGIN,
    Revocation,
    encode_entry,
    stream_key,
)
from shared.tasks import cancel_and_wait

__all__ = ["CHANNEL", "RevocationPublisher"]

log = logging.getLogger(__name__)

CHANNEL = "auth_revocations"
"""Notified by migration 0004's trigger when revocations are committed."""
BATCH = 500


class RevocationPublisher:
    __slots__ = (
        "_clock",
        "_dsn",
        "_first_round",
        "_key",
        "_longest_ttl",
        "_next_trim",
        "_on_redis_error",
        "_poll_interval",
        "_redis",
        "_repo",
        "_stopping",
        "_task",
        "_trim_interval",
        "_wake",
    )

    def __init__(
        self,
        dsn: str,
        redis: Redis,
        prefix: str,
        *,
        longest_ttl: Callable[[], int],
        poll_interval: float = 1.0,
        trim_interval: float = 60.0,
        on_redis_error: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``longest_ttl()``: the longest access-token lifetime (how long the stream must keep an
        entry, with ``MAX_LEEWAY`` and ``REVOCATION_MARGIN``); ``on_redis_error(operation)`` counts
        failed rounds (``redis_errors_total``)."""
        self._dsn = dsn
        self._redis = redis
        self._key = stream_key(prefix)
        self._longest_ttl = longest_ttl
        self._poll_interval = poll_interval
        self._trim_interval = trim_interval
        self._on_redis_error = on_redis_error
        self._clock = clock
        self._repo = RevocationRepository()
        self._wake = asyncio.Event()
        self._next_trim = 0.0
        self._stopping = False
        self._first_round = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, wait: float = 2.0) -> None:
        """Waits up to ``wait`` seconds for the first round, so what was revoked while no replica
        ran (``users recover-admin``) is on the stream before this replica's own feed loads it; a
        database or Redis that is away delays publishing, not the app."""
        self._stopping = False
        self._first_round.clear()
        self._task = asyncio.create_task(self._run(), name="revocation-publisher")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._first_round.wait()

    async def stop(self) -> None:
        """The loop also stops at its next round by the flag (see ``shared/tasks.py``)."""
        task, self._task = self._task, None
        self._stopping = True
        await cancel_and_wait(task, "revocation publisher")

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                conn = await asyncpg.connect(self._dsn, timeout=5)
            except Exception as exc:
                failures += 1
                self._first_round.set()
                log.warning("revocation publisher cannot reach the database (%s); retrying", _name(exc))
                await asyncio.sleep(_backoff(failures))
                continue
            failures = 0
            try:
                await self._follow(conn)
            except Exception as exc:
                self._first_round.set()
                log.warning(
                    "revocation publisher lost its database connection (%s); reconnecting", _name(exc)
                )
                await asyncio.sleep(_backoff(1))
            finally:
                await _close(conn)

    async def _follow(self, conn: asyncpg.Connection) -> None:
        """Rounds on one connection until it fails; a Redis error only delays the next round."""
        await conn.add_listener(CHANNEL, self._notified)
        failures = 0
        while not self._stopping:
            self._wake.clear()
            try:
                sent = await self.publish_round(conn)
            except RedisError as exc:
                self._first_round.set()
                failures += 1
                if self._on_redis_error is not None:
                    self._on_redis_error("revocation_publish")
                log.warning("revocations not published (Redis: %s); retrying", _name(exc))
                await asyncio.sleep(_backoff(failures))
                continue
            failures = 0
            self._first_round.set()
            if sent < BATCH:
                await self._woken()

    def _notified(self, *_: Any) -> None:
        self._wake.set()

    async def _woken(self) -> None:
        """A ``NOTIFY`` or the poll interval, whichever comes first."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._poll_interval):
                await self._wake.wait()

    async def publish_round(self, conn: asyncpg.Connection) -> int:
        """Publish what is waiting (at most ``BATCH`` rows); how many were sent."""
        async with conn.transaction():
            claimed = await self._repo.claim(conn, BATCH)
            stream_was_there = await self._send([c.revocation for c in claimed])
            if claimed:
                await self._repo.mark_published(conn, [c.id for c in claimed])
        if not stream_was_there:
            await self._republish(conn, [c.id for c in claimed])
        await self._trim_now_and_then(conn)
        return len(claimed)

    async def _send(self, revocations: Sequence[Revocation]) -> bool:
        """Whether the stream existed before these were added (``EXISTS`` in the same ``MULTI``)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.exists(self._key)
            for revocation in revocations:
                fields: dict[FieldT, EncodableT] = {k: v for k, v in encode_entry(revocation).items()}
                pipe.xadd(self._key, fields)
            results = await pipe.execute()
        return bool(results[0])

    async def _republish(self, conn: asyncpg.Connection, sent: Sequence[int]) -> None:
        """Everything a verifier must still hold but ``sent`` (just added to the new stream). Rows
        another replica is sending right now may go twice: harmless, where missing one is not."""
        count = await self._repo.republish(conn, sent)
        if count:
            log.warning(
                "revocation stream %s was gone (Redis lost its data?): republishing %d revocations",
                self._key,
                count,
            )
            self._wake.set()

    async def _trim_now_and_then(self, conn: asyncpg.Connection) -> None:
        """Drop entries no verifier needs any more (approximately: whole stream nodes at a time).

        Key revocations outlive the stream's horizon (a compromised key can sign new tokens, see
        ``Revoker.key``): those still live are sent again first, so a verifier that starts later
        still finds them on the stream."""
        now = self._clock()
        if now < self._next_trim:
            return
        self._next_trim = now + self._trim_interval
        horizon = now - (self._longest_ttl() + MAX_LEEWAY + REVOCATION_MARGIN)
        if horizon > 0:
            # Half the horizon ahead: re-sent well before their first copy can be trimmed.
            resend_before = horizon + (now - horizon) / 2
            if await self._repo.refresh_before_trim(conn, resend_before, ["kid"]):
                self._wake.set()
            await self._redis.xtrim(self._key, minid=f"{int(horizon * 1000)}-0", approximate=True)


def _backoff(failures: int) -> float:
    return float(min(2.0, 0.1 * 2 ** min(failures, 5)))


def _name(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def _close(conn: asyncpg.Connection) -> None:
    try:
        async with asyncio.timeout(2):
            await conn.close()
    except Exception:
        conn.terminate()
