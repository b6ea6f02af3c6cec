"""One asyncpg pool per service, opened in the app's lifespan and closed on shutdown.

The pool is opened lazily-tolerant: a database that is down at start-up does not stop the service
(``/readyz`` answers 503 until it is reachable), so a restart order between the database and the
service never matters.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeAlias, cast

import asyncpg

__all__ = ["Connection", "DatabaseUnavailable", "PostgresPool", "is_connection_error"]

Connection: TypeAlias = asyncpg.Connection
"""What ``acquire()`` yields; a service hands one (one transaction) to several repositories as this,
without importing asyncpg."""

log = logging.getLogger(__name__)

# Errors that mean "the database is not there right now", as opposed to a bug in our SQL.
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ConnectionError,
    asyncio.TimeoutError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.PostgresConnectionError,  # SQLSTATE class 08
    # The connection broke while an operation was under way (seen when PostgreSQL restarts).
    asyncpg.exceptions.InternalClientError,
)


class DatabaseUnavailable(Exception):
    """The database cannot be reached; the HTTP layer answers 503 with ``Retry-After``."""


def is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, _CONNECTION_ERRORS)


async def _rollback_unfinished(conn: asyncpg.Connection) -> None:
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


class PostgresPool:
    """Holds the service's pool; ``acquire()`` maps connection failures to ``DatabaseUnavailable``.

    Connections keep no session state (``SET LOCAL`` only, transaction-scoped locks, no ``LISTEN``),
    so a released connection only has an unfinished transaction rolled back, instead of asyncpg's
    full reset (``RESET ALL; UNLISTEN *; ...``), a second round trip per request.
    """

    __slots__ = ("_dsn", "_gate", "_lock", "_max_size", "_min_size", "_pool", "_timeout")

    def __init__(self, dsn: str, *, min_size: int = 2, max_size: int = 10, timeout: float = 5.0) -> None:
        self._dsn = dsn
        self._min_size = min_size
        self._max_size = max_size
        self._timeout = timeout
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()
        # First come, first served: asyncpg's pool hands a released connection to whichever
        # coroutine asks next, so under load a request could lose that race again and again
        # (p99 three times the median in bench/customer_peers.sh). asyncio.Semaphore is FIFO.
        self._gate = asyncio.Semaphore(max_size)

    async def open(self) -> None:
        """Try once to open the pool; on failure the next ``acquire()`` tries again."""
        try:
            await self._ensure_pool()
        except DatabaseUnavailable as exc:
            log.warning("database not reachable at start-up; will retry on demand: %s", exc)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _ensure_pool(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        async with self._lock:
            if self._pool is None:
                try:
                    self._pool = await asyncpg.create_pool(
                        self._dsn,
                        min_size=self._min_size,
                        max_size=self._max_size,
                        timeout=self._timeout,
                        command_timeout=30,
                        reset=_rollback_unfinished,
                    )
                except Exception as exc:
                    if is_connection_error(exc) or isinstance(exc, asyncpg.PostgresError):
                        raise DatabaseUnavailable(type(exc).__name__) from exc
                    raise
            return self._pool

    async def _take_turn(self) -> None:
        if not self._gate.locked():
            await self._gate.acquire()  # returns at once
            return
        # Every connection is busy: wait in line, at most ``timeout`` (then 503). Armed only here:
        # a timer per request costs more than the query on the fast path.
        async with asyncio.timeout(self._timeout):
            await self._gate.acquire()

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        pool = await self._ensure_pool()
        try:
            await self._take_turn()
            try:
                # Never waits: the gate admits no more holders than the pool has. Opening a new
                # connection is bounded by the pool's connect timeout.
                conn = await pool.acquire()
                try:
                    # A pool proxy forwards every Connection method; callers type against Connection.
                    yield cast(asyncpg.Connection, conn)
                finally:
                    await pool.release(conn)
            finally:
                self._gate.release()
        except Exception as exc:
            if is_connection_error(exc):
                raise DatabaseUnavailable(type(exc).__name__) from exc
            raise

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        async with self.acquire() as conn:
            return await conn.fetchrow(query, *args)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with self.acquire() as conn:
            return await conn.fetch(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self.acquire() as conn:
            return await conn.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        async with self.acquire() as conn:
            return await conn.execute(query, *args)

    async def is_ready(self) -> bool:
        try:
            return bool(await self.fetchval("SELECT 1"))
        except DatabaseUnavailable:
            return False

    @property
    def stats(self) -> tuple[int, int]:
        """(connections in use, pool size), for metrics."""
        if self._pool is None:
            return (0, 0)
        size = self._pool.get_size()
        return (size - self._pool.get_idle_size(), size)
