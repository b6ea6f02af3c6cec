"""A refresh run once at start and then every ``interval`` seconds in the background.

What each replica keeps in memory from the database (signing keys, resource servers) is refreshed
this way. Starting does not fail while the database is away (``/readyz`` says so instead), and a
failed round is logged and retried at the next interval: a background task that died on one error
would leave the replica on stale data for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from shared.db.pool import DatabaseUnavailable
from shared.tasks import cancel_and_wait

__all__ = ["PeriodicRefresh"]

log = logging.getLogger(__name__)


class PeriodicRefresh:
    __slots__ = ("_interval", "_refresh", "_task", "_what")

    def __init__(self, what: str, refresh: Callable[[], Awaitable[None]], *, interval: float) -> None:
        """``what`` names the data in log lines and in the task's name (``"signing keys"``)."""
        self._what = what
        self._refresh = refresh
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        with contextlib.suppress(DatabaseUnavailable):
            await self._refresh()
        self._task = asyncio.create_task(self._run(), name=self._what.replace(" ", "-"))

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task, self._what)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._refresh()
            except DatabaseUnavailable as exc:
                log.warning("%s not refreshed: database unavailable (%s)", self._what, exc)
            except Exception:
                log.exception("%s not refreshed", self._what)
