"""``RevocationFeed``: the auth service's revocation stream, followed into memory by a verifier.

A background task reads the stream (``revocation_events.stream_key``): ``XRANGE`` in pages to load
what is there, then ``XREAD BLOCK`` from the last id read, forever. On any error it logs, counts,
waits (0.1 s doubling to 2 s) and goes on from the last id read, so an outage misses nothing
still in the stream. ``check`` is what ``TokenVerifier`` calls per token: no I/O, a few lookups.

While Redis cannot be read the verifier keeps the last known set for ``grace`` seconds after the
last successful read (an idle ``XREAD`` answers every second, so "successful" is recent while
Redis is fine), then refuses tokens (``RevocationCheckUnavailable``: a 503) until Redis answers:
never an accepted token that may have been revoked meanwhile. Before the first load it refuses too.

The stream may be lost (Redis restarted empty, or flushed): the auth service then republishes the
live revocations with new ids. Those are normally later than ours and read as they come; but a
lost stream or a restarted server (another ``run_id``) makes our last id meaningless, and so does
a stream whose ``last-generated-id`` is below it (a clock behind): each makes the feed reload the
whole stream. The check runs after every reconnect and on every idle read (once a second).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterable

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from shared.auth.claims import AccessClaims
from shared.auth.revocation_events import decode_entry, stream_key
from shared.auth.revocation_redis import Entries, feed_redis, id_order, stream_id, xread_entries
from shared.auth.revocation_set import RevocationSet
from shared.auth.verifier import InvalidToken, RevocationCheckUnavailable
from shared.tasks import cancel_and_wait

__all__ = ["RevocationFeed", "RevocationSet", "feed_redis"]

log = logging.getLogger(__name__)

PAGE = 1000
"""Entries per ``XRANGE`` / ``XREAD`` call."""
_FIRST_RETRY, _MAX_RETRY = 0.1, 2.0
_START = "0-0"


class RevocationFeed:
    __slots__ = (
        "_block_ms",
        "_caught_up",
        "_clock",
        "_closing",
        "_failing_since",
        "_grace",
        "_key",
        "_kids",
        "_last_id",
        "_last_read",
        "_loaded",
        "_loaded_event",
        "_on_error",
        "_on_event",
        "_recheck",
        "_redis",
        "_server",
        "_set",
        "_stale_logged",
        "_start_wait",
        "_stream_lost",
        "_task",
        "on_key_revoked",
    )

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        leeway: float,
        grace: float,
        clock: Callable[[], float] = time.time,
        on_key_revoked: Callable[[str], None] | None = None,
        on_event: Callable[[str], None] | None = None,
        on_error: Callable[[], None] | None = None,
        block: float = 1.0,
        start_wait: float = 2.0,
    ) -> None:
        """``leeway``: the verifier's own (entries are kept until ``exp + leeway + margin``).
        ``on_key_revoked(kid)`` is called once per revoked key, from the loaded stream too;
        ``on_event(kind)`` for every entry read, ``on_error()`` for every failed read.
        ``start()`` waits up to ``start_wait`` seconds for the first load."""
        if grace < 2 * block:
            raise ValueError(f"grace ({grace} s) must be at least twice the read block ({block} s)")
        self._redis = redis
        self._key = stream_key(prefix)
        self._grace = grace
        self._clock = clock
        self._block_ms = int(block * 1000)
        self._start_wait = start_wait
        self._set = RevocationSet(leeway, clock)
        self.on_key_revoked = on_key_revoked
        self._on_event = on_event
        self._on_error = on_error
        self._last_id = _START
        self._caught_up = False
        """``XRANGE`` reached the end of the stream from ``_last_id``: now ``XREAD`` follows it."""
        self._loaded = False
        self._loaded_event = asyncio.Event()
        self._last_read = -math.inf
        """When the stream was last read to its end, once loaded (``-inf`` before)."""
        self._recheck = True
        self._server: str | None = None
        self._stream_lost = False
        self._kids: set[str] = set()
        self._failing_since: float | None = None
        self._stale_logged = False
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    # ------------------------------------------------------------- verifier side
    def check(self, claims: AccessClaims) -> None:
        """Fits ``TokenVerifier(revocations=...)``."""
        if self._clock() - self._last_read > self._grace:
            raise RevocationCheckUnavailable("the revocation set is not loaded or not current")
        if self._set.revoked(claims):
            raise InvalidToken("revoked", "The access token was revoked.")

    def is_ready(self) -> bool:
        """Loaded, and read to the stream's end within ``grace``: exactly when ``check`` answers."""
        return self._clock() - self._last_read <= self._grace

    @property
    def age_seconds(self) -> float | None:
        """Seconds since the feed last read the stream to its end (``None`` before the first load)."""
        return self._clock() - self._last_read if self._loaded else None

    def __len__(self) -> int:
        return len(self._set)

    def issued_after(self, sub: str, client_id: str, roles: Iterable[str]) -> float | None:
        """See ``RevocationSet.issued_after``: for the auth service's token issuer."""
        return self._set.issued_after(sub, client_id, roles)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start following; wait a little (``start_wait``) for the first load, so a service that
        starts with Redis up answers its first requests, and does not fail while Redis is down.
        No arguments: fits Litestar's ``on_startup``."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="revocation-feed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._loaded_event.wait(), self._start_wait)

    async def close(self) -> None:
        """Stop following; the loop also ends by the flag (see ``shared/tasks.py``)."""
        self._closing = True
        task, self._task = self._task, None
        await cancel_and_wait(task, "revocation feed")

    async def _run(self) -> None:
        retry = _FIRST_RETRY
        while not self._closing:
            try:
                await self._step()
            except Exception as exc:
                if self._closing:
                    return
                self._failed(exc)
                self._recheck = True
                await asyncio.sleep(retry)
                retry = min(retry * 2, _MAX_RETRY)
                continue
            retry = _FIRST_RETRY
            if self._failing_since is not None:
                log.info(
                    "revocation feed: Redis answers again after %.1f s", self._clock() - self._failing_since
                )
                self._failing_since, self._stale_logged = None, False
            self._set.prune_if_due()

    async def _step(self) -> None:
        if self._recheck:
            await self._check_position()
        elif not self._caught_up:
            await self._load_page()
        else:
            await self._follow()

    # ---------------------------------------------------------------- reading
    async def _load_page(self) -> None:
        start = "-" if self._last_id == _START else f"({self._last_id}"
        entries: Entries = await self._redis.xrange(self._key, min=start, max="+", count=PAGE) or []
        self._take(entries)
        if len(entries) < PAGE:
            self._caught_up = True
            if not self._loaded:
                self._loaded = True
                self._loaded_event.set()
                log.info("revocation feed: loaded %d revocations from %s", len(self._set), self._key)
            self._answered()

    async def _follow(self) -> None:
        reply = await self._redis.xread({self._key: self._last_id}, count=PAGE, block=self._block_ms)
        entries = xread_entries(reply)
        self._take(entries)
        if len(entries) < PAGE:  # read to the end: the set is current as of now
            self._answered()
        if not entries:
            self._recheck = True  # idle: a good moment to see that our position still holds

    async def _check_position(self) -> None:
        """Reload the whole stream when our last id no longer says what we have read."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.info("server")
            pipe.xinfo_stream(self._key)
            server, stream = await pipe.execute(raise_on_error=False)
        self._recheck = False
        # INFO may be refused to a read-only ACL user: then only the stream itself is compared.
        run_id = server.get("run_id") if isinstance(server, dict) else None
        restarted = run_id is not None and self._server is not None and run_id != self._server
        self._server = run_id or self._server
        if isinstance(stream, ResponseError) and "no such key" in str(stream).lower():
            self._stream_lost = self._stream_lost or self._last_id != _START
            stream = None
        elif isinstance(stream, Exception):
            raise stream
        last_generated = None if stream is None else stream_id(stream["last-generated-id"])
        behind = last_generated is not None and id_order(last_generated) < id_order(self._last_id)
        if restarted or behind or (self._stream_lost and stream is not None):
            why = "Redis restarted" if restarted else "its ids went back" if behind else "it was lost"
            log.warning("revocation feed: reloading %s from the start (%s)", self._key, why)
            self._last_id, self._caught_up, self._stream_lost = _START, False, False

    def _take(self, entries: Entries) -> None:
        for entry_id, fields in entries:
            if entry_id is None or fields is None:
                continue
            self._last_id = stream_id(entry_id)
            revocation = decode_entry(fields)
            if revocation is None:
                continue
            if self._on_event is not None:
                self._on_event(revocation.kind)
            if revocation.kind == "kid" and revocation.value not in self._kids:
                self._kids.add(revocation.value)
                self._key_revoked(revocation.value)
            self._set.add(revocation)

    def _key_revoked(self, kid: str) -> None:
        log.warning("revocation feed: signing key %s revoked", kid)
        if self.on_key_revoked is None:
            return
        try:
            self.on_key_revoked(kid)
        except Exception:
            log.exception("revocation feed: dropping revoked key %s failed", kid)

    def _answered(self) -> None:
        """The set holds everything in the stream as of now: only ever said after reading to its
        end, never after a mere answer (a reconnect that must reload is not current yet)."""
        if self._loaded:
            self._last_read = self._clock()

    def _failed(self, exc: Exception) -> None:
        if self._on_error is not None:
            self._on_error()
        now = self._clock()
        unexpected = not isinstance(exc, RedisError | OSError)
        if self._failing_since is None:
            self._failing_since = now
            log.warning(
                "revocation feed: reading %s failed (%s: %s); retrying, tokens are checked against "
                "the last known set for %s s",
                self._key, type(exc).__name__, exc, self._grace, exc_info=unexpected,
            )  # fmt: skip
        else:
            log.debug("revocation feed: still failing (%s: %s)", type(exc).__name__, exc, exc_info=unexpected)
        if self._loaded and not self._stale_logged and now - self._last_read > self._grace:
            self._stale_logged = True
            log.error(
                "revocation feed: Redis unread for %.0f s, past the grace of %s s: tokens are "
                "refused (503) until it answers",
                now - self._last_read, self._grace,
            )  # fmt: skip
