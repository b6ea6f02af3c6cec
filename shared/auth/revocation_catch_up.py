"""``RevocationCatchUp``: a ``RevocationFeed`` read when a request comes, for a process that is
frozen between requests (AWS Lambda).

A feed follows the stream from a background task (``XREAD BLOCK``), and refuses tokens once it
has not read the stream to its end for ``grace`` seconds. Frozen between invocations, that task
reads nothing, so the first request after a quiet minute would get a 503. This stops the task after
the first load (``start``) and reads the stream when an invocation starts (``catch_up``): the same
position check (a restarted or emptied Redis reloads the whole stream) and the same pages, from
the last id read, with ``XRANGE`` (which never blocks) until the end. At most once per
``interval`` (1 s, the background feed's own cadence): so a busy environment pays two Redis round
trips a second at most, and an idle one none; a revocation reaches it within about a second of
being published, as with the background feed.

A read that fails is the feed's failure (logged, counted): the last set is used within ``grace``,
then tokens are refused (503) until Redis answers, exactly as with the background feed. The reading
steps are the feed's own (this module sits beside it, reaching into its reading methods) so there
is one implementation of what a page, a position check or a reload is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from shared.auth.revocation_feed import RevocationFeed

__all__ = ["RevocationCatchUp"]

log = logging.getLogger(__name__)

_MAX_PAGES = 100
"""Pages one catch-up reads at most (100 000 entries); the next invocation reads on."""


class RevocationCatchUp:
    __slots__ = ("_clock", "_feed", "_interval", "_last")

    def __init__(
        self, feed: RevocationFeed, *, interval: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._feed = feed
        self._interval = interval
        self._clock = clock
        self._last = float("-inf")

    @property
    def feed(self) -> RevocationFeed:
        return self._feed

    async def start(self) -> None:
        """After the app's start-up (which started the feed and waited for its first load): stop
        its background reader and read to the end once now."""
        await self._feed.close()
        await self.catch_up()

    async def catch_up(self) -> None:
        """Read what was added since the last read, unless that was under ``interval`` ago."""
        now = self._clock()
        if now - self._last < self._interval:
            return
        self._last = now
        feed = self._feed
        try:
            feed._recheck = True
            await feed._check_position()
            feed._caught_up = False
            for _ in range(_MAX_PAGES):
                await feed._load_page()
                if feed._caught_up:
                    break
        except Exception as exc:
            feed._failed(exc)
            return
        if feed._failing_since is not None:
            log.info("revocation feed: Redis answers again")
            feed._failing_since, feed._stale_logged = None, False
        feed._set.prune_if_due()
