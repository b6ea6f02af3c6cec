"""The purge in the service: every ``AUTH_PURGE_INTERVAL`` seconds on each replica, one round per
interval overall (the lock keeps rounds apart; a replica skips its round when another replica
purged in the last half interval), audited as ``system``.

No round runs at start: a replica starting after a long outage must not wait for a big purge
before it serves (the first round comes one interval later). A failed round is logged and the
next one tries again (``shared/periodic.py``).
"""

from __future__ import annotations

import logging

from auth_service.audit.service import Actor
from auth_service.retention.service import RetentionPurge
from shared.periodic import PeriodicRefresh

__all__ = ["SYSTEM", "PurgeSchedule"]

log = logging.getLogger(__name__)

SYSTEM = Actor(id="system")


class PurgeSchedule:
    __slots__ = ("_interval", "_periodic", "_purge", "_started")

    def __init__(self, purge: RetentionPurge, *, interval: float) -> None:
        """``interval`` 0 schedules nothing (the CLI purges instead)."""
        self._purge = purge
        self._interval = interval
        self._started = False
        self._periodic = (
            PeriodicRefresh("retention purge", self._round, interval=interval) if interval else None
        )

    async def start(self) -> None:
        if self._periodic is not None:
            await self._periodic.start()

    async def stop(self) -> None:
        if self._periodic is not None:
            await self._periodic.stop()

    async def _round(self) -> None:
        if not self._started:  # PeriodicRefresh's round at start: skipped, see the module docstring
            self._started = True
            return
        report = await self._purge.purge(SYSTEM, unless_within=self._interval / 2)
        if report is not None:
            log.info("retention purge: %s", report.describe())
