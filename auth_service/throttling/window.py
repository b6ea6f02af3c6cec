"""A sliding-window limit per subject: at most ``limit`` hits within the last ``window_seconds``.

Exact (a log of hit times in a sorted set, trimmed on every hit) rather than approximated from
fixed windows, so ``Retry-After`` is the moment the oldest counted hit leaves the window; memory
per subject is bounded by the limit, since refused hits are not recorded.
"""

from __future__ import annotations

import secrets

from auth_service.throttling.errors import Throttled
from auth_service.throttling.scripts import WINDOW_HIT
from auth_service.throttling.store import ThrottleStore

__all__ = ["SlidingWindowLimiter"]


class SlidingWindowLimiter:
    __slots__ = ("_hit", "_limit", "_store", "_window_ms", "name")

    def __init__(self, store: ThrottleStore, name: str, *, limit: int, window_seconds: int) -> None:
        self._store = store
        self._hit = store.script(WINDOW_HIT)
        self.name = name
        self._limit = limit
        self._window_ms = window_seconds * 1000

    async def hit(self, subject: str) -> None:
        """Count one request of ``subject``; raises ``Throttled`` over the limit, or
        ``ThrottlingUnavailable`` when Redis is away and the fail mode is ``closed``."""
        key = f"{self._store.prefix}{self.name}:{subject}"
        reply = await self._store.run(
            self._hit, [key], [secrets.token_hex(8), self._limit, self._window_ms], limiters=(self.name,)
        )
        if reply is None:
            return
        wait_ms = int(reply)
        self._store.decision(self.name, throttled=wait_ms > 0)
        if wait_ms > 0:
            raise Throttled(self.name, wait_ms)
