"""Second-factor throttling: a lockout of its own per person, and a failure limit per address.

The login lockout's shape (``login.py``, the same Lua scripts), on other keys: the
``threshold``-th wrong code in a row locks the person's second step for one second, each further
one doubles the lock (capped), a right code clears the count, a quiet period clears it too, and
codes tried during a lock are refused unseen (the right one included). Per source address, at most
``ip_max_failures`` wrong codes within a sliding window, whoever they are for. Apart from the
password lockout on purpose: a person who mistypes their password is not locked out of their
second step, and the other way round.

The person is named by their user id (they are known once the password was right, or from the
session being stepped up); a code is counted as wrong when it is tried and un-counted if right,
so concurrent guesses cannot all pass before the first failure is recorded.
"""

from __future__ import annotations

import hashlib
import secrets
from uuid import UUID

from auth_service.throttling.client_address import address_bucket
from auth_service.throttling.errors import Throttled
from auth_service.throttling.scripts import LOGIN_BEGIN, LOGIN_SUCCEEDED
from auth_service.throttling.store import ThrottleStore
from auth_service.tokens.login_guard import LoginAttempt

__all__ = ["SECOND_FACTOR_ACCOUNT_LIMITER", "SECOND_FACTOR_ADDRESS_LIMITER", "SecondFactorThrottle"]

SECOND_FACTOR_ACCOUNT_LIMITER = "second_factor_account"
SECOND_FACTOR_ADDRESS_LIMITER = "second_factor_ip"
_REFUSED_BY = {1: SECOND_FACTOR_ADDRESS_LIMITER, 2: SECOND_FACTOR_ACCOUNT_LIMITER}


class SecondFactorThrottle:
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

    def _keys(self, user_id: str, source_ip: str | None) -> list[str]:
        digest = hashlib.sha256(user_id.encode()).hexdigest()[:32]
        prefix = self._store.prefix
        return [
            f"{prefix}{SECOND_FACTOR_ACCOUNT_LIMITER}:{digest}",
            f"{prefix}{SECOND_FACTOR_ADDRESS_LIMITER}:{address_bucket(source_ip)}",
        ]

    async def before_attempt(self, user_id: UUID, source_ip: str | None) -> LoginAttempt:
        """Raises ``Throttled`` (429) or ``ThrottlingUnavailable`` (503, failing closed)."""
        ticket = secrets.token_hex(8)
        reply = await self._store.run(
            self._begin,
            self._keys(str(user_id), source_ip),
            [ticket, *self._args],
            limiters=(SECOND_FACTOR_ADDRESS_LIMITER, SECOND_FACTOR_ACCOUNT_LIMITER),
        )
        if reply is None:  # Redis away, failing open: nothing was counted
            return LoginAttempt(str(user_id), source_ip)
        refused_by, wait_ms = int(reply[0]), int(reply[1])
        self._store.decision(SECOND_FACTOR_ADDRESS_LIMITER, throttled=refused_by == 1)
        if refused_by != 1:
            self._store.decision(SECOND_FACTOR_ACCOUNT_LIMITER, throttled=refused_by == 2)
        if refused_by:
            raise Throttled(_REFUSED_BY[refused_by], wait_ms)
        return LoginAttempt(str(user_id), source_ip, ticket)

    async def after_attempt(self, attempt: LoginAttempt, *, succeeded: bool) -> None:
        """A wrong code was counted when it was tried; a right one clears the person's record."""
        if succeeded and attempt.ticket is not None:
            await self._store.run_quietly(
                self._succeeded, self._keys(attempt.account, attempt.source_ip), [attempt.ticket]
            )
