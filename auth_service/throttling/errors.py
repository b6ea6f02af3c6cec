"""Why a limiter refused a request: over a limit (429), or unable to decide while failing closed (503).

Domain errors like any other, so outside the OAuth endpoints they become problem+json through the
shared mapping, ``Retry-After`` included; the OAuth endpoints answer them in RFC 6749's shape
instead (``auth_service/tokens/errors.py``: ``slow_down`` and ``temporarily_unavailable``).
"""

from __future__ import annotations

import math

from shared.errors import DomainError

__all__ = ["TOO_MANY", "UNAVAILABLE", "ThrottleRefusal", "Throttled", "ThrottlingUnavailable"]

UNAVAILABLE_RETRY_AFTER = 2
TOO_MANY = "Too many attempts; retry after {seconds} s."
UNAVAILABLE = "Request limits cannot be checked right now; retry shortly."


class ThrottleRefusal(DomainError):
    """A request a limiter did not let through; ``retry_after`` is in whole seconds (at least 1)."""

    def __init__(self, limiter: str, retry_after: int, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
        self.limiter = limiter
        self.retry_after = retry_after


class Throttled(ThrottleRefusal):
    """Over the limit; the wait is what Redis computed (end of a lock, or of the window's oldest hit)."""

    status = 429
    slug = "too-many-requests"

    def __init__(self, limiter: str, wait_ms: int) -> None:
        seconds = max(1, math.ceil(wait_ms / 1000))
        super().__init__(limiter, seconds, TOO_MANY.format(seconds=seconds))


class ThrottlingUnavailable(ThrottleRefusal):
    """Redis did not answer and the fail mode is ``closed``: refused rather than let through unchecked."""

    status = 503
    slug = "throttling-unavailable"

    def __init__(self, limiter: str) -> None:
        super().__init__(limiter, UNAVAILABLE_RETRY_AFTER, UNAVAILABLE)
