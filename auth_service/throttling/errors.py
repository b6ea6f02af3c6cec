"""Why a limiter refused a request: over a limit (429), or unable to decide while failing closed (503)."""

from __future__ import annotations

import math

__all__ = ["ThrottleRefusal", "Throttled", "ThrottlingUnavailable"]

UNAVAILABLE_RETRY_AFTER = 2


class ThrottleRefusal(Exception):
    """A request a limiter did not let through; ``retry_after`` is in whole seconds (at least 1)."""

    def __init__(self, limiter: str, retry_after: int) -> None:
        super().__init__(f"{limiter}: retry after {retry_after} s")
        self.limiter = limiter
        self.retry_after = retry_after


class Throttled(ThrottleRefusal):
    """Over the limit; the wait is what Redis computed (end of a lock, or of the window's oldest hit)."""

    def __init__(self, limiter: str, wait_ms: int) -> None:
        super().__init__(limiter, max(1, math.ceil(wait_ms / 1000)))


class ThrottlingUnavailable(ThrottleRefusal):
    """Redis did not answer and the fail mode is ``closed``: refused rather than let through unchecked."""

    def __init__(self, limiter: str) -> None:
        super().__init__(limiter, UNAVAILABLE_RETRY_AFTER)
