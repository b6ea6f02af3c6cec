"""A clock a test moves by hand, for the verifier's and the JWKS cache's ``clock=``."""

from __future__ import annotations

__all__ = ["ManualClock"]


class ManualClock:
    """Returns ``now`` until a test calls ``advance``: expiry is reached without waiting for it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
