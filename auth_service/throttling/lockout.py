"""The progressive lockout both logins use: per account a lock that doubles, per address a limit.

One mechanism, two users on keys of their own (``login.py`` names accounts by normalised email,
``second_factor.py`` by user id): the ``threshold``-th failure in a row locks the account for one
second, each further one doubles the lock (capped), attempts during a lock are refused unseen, a
success clears the count and a quiet period clears it too; per source address at most
``ip_max_failures`` failures within a sliding window, whatever accounts they name. An attempt is
counted as a failure when it starts and un-counted if it succeeds, so concurrent guesses cannot all
pass before the first failure is recorded (``scripts.LOGIN_BEGIN`` / ``LOGIN_SUCCEEDED``).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import ClassVar

from auth_service.throttling.client_address import address_bucket
from auth_service.throttling.errors import Throttled
from auth_service.throttling.scripts import LOGIN_BEGIN, LOGIN_SUCCEEDED
from auth_service.throttling.store import ThrottleStore
from auth_service.tokens.login_guard import LoginAttempt

__all__ = ["Lockout"]


class Lockout:
    """The mechanism; a subclass names its two limiters (``LIMITERS``: the account's and the
    address's, for keys, metrics and 429s) and how an attempt names its account (``account_key``)."""

    LIMITERS: ClassVar[tuple[str, str]]

    __slots__ = ("_args", "_begin", "_store", "_succeeded")

    def __init__(
        self,
        store: ThrottleStore,
        *,
        threshold: int,
        max_lock_seconds: int,
        reset_seconds: int,
        ip_max_failures: int,
        ip_window_seconds: int,
    ) -> None:
        self._store = store
        self._begin = store.script(LOGIN_BEGIN)
        self._succeeded = store.script(LOGIN_SUCCEEDED)
        self._args = (
            threshold,
            max_lock_seconds * 1000,
            reset_seconds * 1000,
            ip_max_failures,
            ip_window_seconds * 1000,
        )

    @staticmethod
    def account_key(account: str) -> str:
        """One name per account, whatever spelling an attempt gave (as given, unless overridden)."""
        return account

    def _keys(self, account: str, source_ip: str | None) -> list[str]:
        # A digest, so Redis holds no email addresses and a key's length does not depend on input.
        digest = hashlib.sha256(self.account_key(account).encode()).hexdigest()[:32]
        account_limiter, address_limiter = self.LIMITERS
        prefix = self._store.prefix
        return [
            f"{prefix}{account_limiter}:{digest}",
            f"{prefix}{address_limiter}:{address_bucket(source_ip)}",
        ]

    async def before_attempt(self, account: str, source_ip: str | None) -> LoginAttempt:
        """Raises ``Throttled`` (429) or ``ThrottlingUnavailable`` (503, failing closed)."""
        ticket = secrets.token_hex(8)
        account_limiter, address_limiter = self.LIMITERS
        reply = await self._store.run(
            self._begin,
            self._keys(account, source_ip),
            [ticket, *self._args],
            limiters=(address_limiter, account_limiter),
        )
        if reply is None:  # Redis away, failing open: nothing was counted
            return LoginAttempt(account, source_ip)
        refused_by, wait_ms = int(reply[0]), int(reply[1])
        self._store.decision(address_limiter, throttled=refused_by == 1)
        if refused_by != 1:
            self._store.decision(account_limiter, throttled=refused_by == 2)
        if refused_by:
            raise Throttled(address_limiter if refused_by == 1 else account_limiter, wait_ms)
        return LoginAttempt(account, source_ip, ticket)

    async def after_attempt(self, attempt: LoginAttempt, *, succeeded: bool) -> None:
        """A failure was counted when the attempt began; a success clears the account's record."""
        if succeeded and attempt.ticket is not None:
            await self._store.run_quietly(
                self._succeeded, self._keys(attempt.account, attempt.source_ip), [attempt.ticket]
            )
