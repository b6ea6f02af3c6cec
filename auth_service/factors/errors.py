"""What can go wrong with a second factor, as domain errors (pages and the API render them).

A wrong code says only that: not whether it was a replay, an old one, or for no factor at all, so
the answer teaches a guesser nothing. Throttle refusals are the throttling's own errors (429, 503).
"""

from __future__ import annotations

from auth_service.errors import Conflict
from shared.errors import DomainError

__all__ = ["FactorRequired", "NoEnrolment", "NoSecondFactor", "TotpAlreadyEnrolled", "WrongCode"]


class WrongCode(DomainError):
    """A TOTP or recovery code that does not open: wrong, used already, or nothing to check it against."""

    status = 400
    slug = "wrong-code"
    detail = "The code is not correct."


class TotpAlreadyEnrolled(Conflict):
    slug = "totp-enrolled"
    detail = "An authenticator app is already set up; remove it first to set up another."


class NoEnrolment(Conflict):
    """A confirmation with no enrolment begun (or one removed meanwhile): start again."""

    slug = "no-totp-enrolment"
    detail = "No authenticator app is being set up; start again."


class FactorRequired(Conflict):
    """The last second factor of a person whose role requires one: it can be replaced, not removed."""

    slug = "factor-required"
    detail = "A role of this account requires a second factor; set up another before removing this one."


class NoSecondFactor(Conflict):
    """Nothing to remove, or recovery codes asked for without a factor they would lead back to."""

    slug = "no-second-factor"
    detail = "This account has no second factor."
