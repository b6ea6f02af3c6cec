"""Where login throttling plugs in (issue 5): a guard consulted around every password attempt.

The password grant calls ``before_attempt`` before any hashing (a throttled attempt must cost
nothing and must not log in even with the right password) and ``after_attempt`` with the outcome.
Until throttling lands, ``NoLoginGuard`` lets every attempt through.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["LoginGuard", "NoLoginGuard"]


class LoginGuard(Protocol):
    async def before_attempt(self, account: str, source_ip: str | None) -> None:
        """Raise to refuse the attempt (the token endpoint maps it to its answer)."""

    async def after_attempt(self, account: str, source_ip: str | None, *, succeeded: bool) -> None:
        """Count a failure, or clear the account's record after a success."""


class NoLoginGuard:
    __slots__ = ()

    async def before_attempt(self, account: str, source_ip: str | None) -> None:
        return None

    async def after_attempt(self, account: str, source_ip: str | None, *, succeeded: bool) -> None:
        return None
