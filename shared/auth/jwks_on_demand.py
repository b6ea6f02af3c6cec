"""``OnDemandJwksCache``: the JWKS cache for a process that is frozen between requests (AWS Lambda).

``JwksCache`` refreshes from a background task before the set goes stale. Where nothing runs
between invocations that task would sleep through the freeze and fire at some random point of a
later request, so this variant has none: ``start()`` loads the set once (awaited, at init), and
``refresh_if_due()`` — called when an invocation starts — refetches only once the set is past its
``max-age``, or a key revocation asked for a refetch. An unknown ``kid`` refetches inside the
request as before (``refresh_for_unknown_kid``, rate limited). Every rule of ``JwksCache`` holds:
``ETag`` revalidation, ``stale_if_error``, whole-set replacement, refused revoked kids.

Failures back off as the background task's do (1 s doubling to 30 s), so an issuer that is down
costs at most one attempt per back-off step, not one per invocation; the cached keys stay usable
for ``stale_if_error`` meanwhile.
"""

from __future__ import annotations

import logging

from shared.auth.jwks import JwksCache, JwksUnavailable

__all__ = ["OnDemandJwksCache"]

log = logging.getLogger(__name__)

_FIRST_RETRY, _LAST_RETRY = 1.0, 30.0


class OnDemandJwksCache(JwksCache):
    """A ``KeySource``; ``start()`` at init, ``refresh_if_due()`` at the start of each invocation."""

    _due = False
    _retry = _FIRST_RETRY

    async def start(self) -> None:
        """Load the set now; an issuer that is down only delays it (readiness says so)."""
        await self._refresh_now()

    def refresh_soon(self) -> None:
        """A revoked key asks for a refetch: done when the next invocation starts, never by a task
        that a freeze could leave half done."""
        self._last_attempt = float("-inf")
        self._due = True

    @property
    def refreshing(self) -> bool:
        return False

    def is_due(self) -> bool:
        """Past ``max-age`` (or asked to), and past the back-off of the last failed attempt."""
        now = self._clock()
        stale = now >= self._fresh_until
        return (self._due or stale) and now - self._last_attempt >= self._retry

    async def refresh_if_due(self) -> None:
        if self.is_due():
            await self._refresh_now()

    async def _refresh_now(self) -> None:
        self._due = False
        try:
            await self.refresh()
        except JwksUnavailable as exc:
            log.warning("JWKS refresh failed; keeping cached keys: %s", exc)
            self._retry = min(self._retry * 2, _LAST_RETRY)
            return
        self._retry = _FIRST_RETRY
