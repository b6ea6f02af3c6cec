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

import unicodedata

from auth_service.throttling.lockout import Lockout
from auth_service.users.emails import InvalidEmail, normalise_email

__all__ = ["ACCOUNT_LIMITER", "ADDRESS_LIMITER", "LoginThrottle", "account_name"]

ACCOUNT_LIMITER = "login_account"
ADDRESS_LIMITER = "login_ip"


def account_name(username: str) -> str:
    """One name per mailbox, the way accounts are looked up (NFKC, normalised domain) and case-folded
    (the column is ``citext``); a username that is no valid email is folded the same way."""
    try:
        folded = normalise_email(username)
    except InvalidEmail:
        folded = unicodedata.normalize("NFKC", username.strip())
    return folded.casefold()


class LoginThrottle(Lockout):
    """The ``LoginGuard`` of the password grant and the login form: accounts named by ``account_name``."""

    LIMITERS = (ACCOUNT_LIMITER, ADDRESS_LIMITER)
    __slots__ = ()

    @staticmethod
    def account_key(account: str) -> str:
        return account_name(account)
