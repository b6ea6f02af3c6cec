"""Where login throttling plugs in: a guard consulted around every password attempt.

The password grant calls ``before_attempt`` before any lookup or hashing (a refused attempt must
cost nothing and must not log in even with the right password) and hands the ``LoginAttempt`` it
got back to ``after_attempt`` with the outcome. ``auth_service.throttling.login`` is the real guard;
``NoLoginGuard`` lets every attempt through (a ``TokenService`` built without throttling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["LoginAttempt", "LoginGuard", "NoLoginGuard"]


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """One attempt the guard let through; ``ticket`` is the guard's own record of it (or ``None``)."""

    account: str
    source_ip: str | None
    ticket: str | None = None


class LoginGuard(Protocol):
    async def before_attempt(self, account: str, source_ip: str | None) -> LoginAttempt:
        """Raise to refuse the attempt (the token endpoint maps the exception to its answer)."""

    async def after_attempt(self, attempt: LoginAttempt, *, succeeded: bool) -> None:
        """Record the outcome: a success clears the account's failures."""


class NoLoginGuard:
    __slots__ = ()

    async def before_attempt(self, account: str, source_ip: str | None) -> LoginAttempt:
        return LoginAttempt(account, source_ip)

    async def after_attempt(self, attempt: LoginAttempt, *, succeeded: bool) -> None:
        return None
