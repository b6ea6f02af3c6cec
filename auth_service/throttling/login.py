"""Login throttling: a progressive lock per account and a failure limit per source address.

Per account, like Amazon Cognito: the ``threshold``-th failure in a row locks the account for one
second, each further failure doubles the lock (2^(n - threshold) s, capped), attempts during a
lock are refused unseen (the right password included, and before any argon2 work), a success
clears the count, and a quiet period clears it too. Accounts are named by the normalised email
whether or not they exist, so a lock answers the same for every name and reveals nothing.

Per source address: at most ``ip_max_failures`` failed attempts within a sliding window, whatever
accounts they name — credential stuffing spreads over accounts to stay under per-account locks.

An attempt is counted as a failure when it starts and un-counted if it succeeds, so a burst of
concurrent guesses cannot all pass before the first failure is recorded.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata

from auth_service.throttling.client_address import address_bucket
from auth_service.throttling.errors import Throttled
from auth_service.throttling.scripts import LOGIN_BEGIN, LOGIN_SUCCEEDED
from auth_service.throttling.store import ThrottleStore
from auth_service.tokens.login_guard import LoginAttempt
from auth_service.users.emails import InvalidEmail, normalise_email

__all__ = ["ACCOUNT_LIMITER", "ADDRESS_LIMITER", "LoginThrottle", "account_name"]

ACCOUNT_LIMITER = "login_account"
ADDRESS_LIMITER = "login_ip"
_REFUSED_BY = {1: ADDRESS_LIMITER, 2: ACCOUNT_LIMITER}


def account_name(username: str) -> str:
    """One name per mailbox, the way accounts are looked up (NFKC, normalised domain) and case-folded
    (the column is ``citext``); a username that is no valid email is folded the same way."""
    try:
        folded = normalise_email(username)
    except InvalidEmail:
        folded = unicodedata.normalize("NFKC", username.strip())
    return folded.casefold()


class LoginThrottle:
    """The ``LoginGuard`` of the password grant."""

    __slots__ = ("_account_args", "_begin", "_store", "_succeeded")

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
        self._account_args = (
            threshold,
            max_lock_seconds * 1000,
            reset_seconds * 1000,
            ip_max_failures,
            ip_window_seconds * 1000,
        )

    def _keys(self, account: str, source_ip: str | None) -> list[str]:
        # A digest, so Redis holds no email addresses and a key's length does not depend on input.
        digest = hashlib.sha256(account_name(account).encode()).hexdigest()[:32]
        prefix = self._store.prefix
        return [
            f"{prefix}{ACCOUNT_LIMITER}:{digest}",
            f"{prefix}{ADDRESS_LIMITER}:{address_bucket(source_ip)}",
        ]

    async def before_attempt(self, account: str, source_ip: str | None) -> LoginAttempt:
        """Raises ``Throttled`` (429) or ``ThrottlingUnavailable`` (503, failing closed)."""
        ticket = secrets.token_hex(8)
        reply = await self._store.run(
            self._begin,
            self._keys(account, source_ip),
            [ticket, *self._account_args],
            limiters=(ADDRESS_LIMITER, ACCOUNT_LIMITER),
        )
        if reply is None:  # Redis away, failing open: nothing was counted
            return LoginAttempt(account, source_ip)
        refused_by, wait_ms = int(reply[0]), int(reply[1])
        self._store.decision(ADDRESS_LIMITER, throttled=refused_by == 1)
        if refused_by != 1:
            self._store.decision(ACCOUNT_LIMITER, throttled=refused_by == 2)
        if refused_by:
            raise Throttled(_REFUSED_BY[refused_by], wait_ms)
        return LoginAttempt(account, source_ip, ticket)

    async def after_attempt(self, attempt: LoginAttempt, *, succeeded: bool) -> None:
        """A failure was counted when the attempt began; a success clears the account's record."""
        if succeeded and attempt.ticket is not None:
            await self._store.run_quietly(
                self._succeeded, self._keys(attempt.account, attempt.source_ip), [attempt.ticket]
            )
