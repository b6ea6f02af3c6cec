"""Client records as the OAuth endpoints read them: from the database, kept in memory briefly.

Every client_credentials request authenticates its client. Reading the client's row each time cost
more than everything else the request does, signing included (about 45 % of the token endpoint's
CPU in ``bench/auth_tokens.py``), so each replica keeps rows it has read for ``ttl`` seconds
(``AUTH_CLIENT_CACHE_TTL``). The secret is still checked on every request, against the cached
digest; only the read is saved. An admin change (``forget``) applies at once on the replica that
made it and within ``ttl`` on the others, well inside an access token's lifetime. Unknown client ids
are never remembered, so a client registered through another replica works at once.

Requests that miss the same client at the same moment share one read (``_reading``): when a busy
client's entry expires, every request in flight for it missed at once, and each reading the row
on its own took every pooled connection and stalled the page requests for up to 190 ms every
``ttl`` seconds (``bench/auth_login_pages.py``).
"""

from __future__ import annotations

import asyncio
import time

from cachetools import TTLCache

from auth_service.clients.repository import ClientRecord, ClientRepository
from shared.db.pool import PostgresPool

__all__ = ["ClientDirectory"]


class ClientDirectory:
    __slots__ = ("_cache", "_changes", "_pool", "_reading", "_repo")

    def __init__(self, pool: PostgresPool, *, ttl: float, max_clients: int = 10_000) -> None:
        """``ttl`` 0 reads the database on every request."""
        self._pool = pool
        self._repo = ClientRepository()
        self._cache: TTLCache[str, ClientRecord] | None = (
            TTLCache(maxsize=max_clients, ttl=ttl, timer=time.monotonic) if ttl > 0 else None
        )
        self._changes = 0
        self._reading: dict[str, asyncio.Future[ClientRecord | None]] = {}

    async def get(self, client_id: str) -> ClientRecord | None:
        cache = self._cache
        if cache is not None:
            record = cache.get(client_id)
            if record is not None:
                return record
        reading = self._reading.get(client_id)
        if reading is None:
            reading = self._reading[client_id] = asyncio.ensure_future(self._read(client_id))
            reading.add_done_callback(lambda done: self._read_done(client_id, done))
        return await asyncio.shield(reading)  # one caller cancelled does not cancel the others' read

    def _read_done(self, client_id: str, done: asyncio.Future[ClientRecord | None]) -> None:
        if self._reading.get(client_id) is done:
            del self._reading[client_id]
        if not done.cancelled():
            done.exception()  # retrieved here too: every caller may have gone before it ended

    async def _read(self, client_id: str) -> ClientRecord | None:
        cache, changes = self._cache, self._changes
        async with self._pool.acquire() as conn:
            record = await self._repo.get(conn, client_id)
        # A change made while this read was under way may not be in what it read: keep nothing then.
        if record is not None and cache is not None and changes == self._changes:
            cache[client_id] = record
        return record

    def forget(self, client_id: str) -> None:
        """The client was changed or deleted here: read it from the database from now on."""
        self._changes += 1
        self._reading.pop(client_id, None)  # a read under way may predate the change
        if self._cache is not None:
            self._cache.pop(client_id, None)
