"""Second-factor throttling: a lockout of its own per person, and a failure limit per address.

The login lockout's mechanism (``lockout.py``), on other keys: the
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

from auth_service.throttling.lockout import Lockout

__all__ = ["SECOND_FACTOR_ACCOUNT_LIMITER", "SECOND_FACTOR_ADDRESS_LIMITER", "SecondFactorThrottle"]

SECOND_FACTOR_ACCOUNT_LIMITER = "second_factor_account"
SECOND_FACTOR_ADDRESS_LIMITER = "second_factor_ip"


class SecondFactorThrottle(Lockout):
    """Attempts name the person by their user id (``str(user.id)``)."""

    LIMITERS = (SECOND_FACTOR_ACCOUNT_LIMITER, SECOND_FACTOR_ADDRESS_LIMITER)
    __slots__ = ()
