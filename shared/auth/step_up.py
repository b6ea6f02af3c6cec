"""How strongly, and how recently, the person behind a token must have logged in (RFC 9470 step-up).

A route names what it needs in its ``opt``, like its scopes: ``opt=requires_mfa()`` or
``opt=requires_authentication(acr_values=["2"], max_age=300)``. ``BearerAuthMiddleware`` checks it
after the scopes and answers a token that falls short with 401
``error="insufficient_user_authentication"`` and the ``acr_values`` / ``max_age`` the next login must
meet, so the client can send the person back to the authorization server with exactly those
parameters (OpenID Connect's ``acr_values`` and ``max_age``) and retry with the new token.

What counts, read from the token's RFC 8176 ``amr``, ``acr`` and ``auth_time``:

- **MFA** (``requires_mfa``): ``amr`` contains ``"mfa"`` (RFC 8176 section 2: several factors), or
  ``acr`` is a numeric level at or above ``MFA_LEVEL`` (``"2"``; the issuer's ``"1"`` is one
  factor). Nothing else is: ``amr`` naming two methods without ``"mfa"`` is the issuer not vouching
  that they were distinct factors. The challenge asks for ``acr_values="2"``.
- **acr_values**: the token's ``acr`` is one of them; numeric values are levels, so a higher one
  satisfies a lower one (``"3"`` meets ``["2"]``). Other values match exactly.
- **max_age**: ``auth_time`` is at most ``max_age`` seconds (plus the verifier's leeway, as for
  ``exp``) before now, on the verifier's clock. A token without ``auth_time`` never passes.
- **No person behind the token**: RFC 9068 section 2.2 gives a token that no resource owner was
  involved in (client credentials) the client's own identifier as ``sub``; so ``sub == client_id``
  is a client acting for itself. Such a token cannot step up, and by default it is refused like a
  weak one: a route enforcing step-up is not bypassed by a token with no user. A route that is
  also meant for machine clients says so (``machine_clients=True``): they pass on their scopes
  alone, while a person's token is still held to the requirement.

Every challenge carries all the route requires, not only what this token missed: a next login
meeting only the missing part could fail on another.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import msgspec

from shared.auth.claims import AccessClaims

__all__ = [
    "AUTHENTICATION_OPT",
    "MFA_AMR",
    "MFA_LEVEL",
    "AuthenticationRequirement",
    "Shortfall",
    "acting_for_itself",
    "is_mfa",
    "requires_authentication",
    "requires_mfa",
]

AUTHENTICATION_OPT = "required_authentication"
"""The ``opt`` key of a route's ``AuthenticationRequirement``."""
MFA_AMR = "mfa"
"""RFC 8176's method value for multiple-factor authentication."""
MFA_LEVEL = "2"
"""The issuer's ``acr`` level of a login with a second factor (``"1"``: one factor)."""

_LEVEL = re.compile(r"[0-9]{1,4}")
_ACR_VALUE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # one challenge word: no space, " or \


class Shortfall(msgspec.Struct, frozen=True):
    """Why a token is not enough for a route, and what the next login must meet (the challenge)."""

    description: str
    acr_values: str | None
    max_age: int | None


def _level(acr: str | None) -> int | None:
    return int(acr) if acr is not None and _LEVEL.fullmatch(acr) else None


def acting_for_itself(claims: AccessClaims) -> bool:
    """A client's token for itself (client credentials): no person logged in for it."""
    return claims.sub == claims.client_id


def is_mfa(claims: AccessClaims) -> bool:
    level = _level(claims.acr)
    return MFA_AMR in claims.amr or (level is not None and level >= int(MFA_LEVEL))


def _acr_meets(acr: str | None, wanted: Iterable[str]) -> bool:
    level = _level(acr)
    for value in wanted:
        if acr == value:
            return True
        floor = _level(value)
        if level is not None and floor is not None and level >= floor:
            return True
    return False


class AuthenticationRequirement(msgspec.Struct, frozen=True, kw_only=True):
    """What a route needs of the login behind a token, as ``requires_authentication`` stores it."""

    acr_values: tuple[str, ...] = ()
    """Any one of them satisfies (numeric levels: or any higher); empty: any ``acr``."""
    mfa: bool = False
    """The login must have been MFA (``amr`` ``"mfa"`` or ``acr`` level ``MFA_LEVEL`` or higher)."""
    max_age: int | None = None
    """Most seconds since the person logged in (``auth_time``)."""
    machine_clients: bool = False
    """A client's token for itself passes on its scopes alone (default: it is refused)."""

    @property
    def challenge_acr_values(self) -> str | None:
        if self.acr_values:
            return " ".join(self.acr_values)
        return MFA_LEVEL if self.mfa else None

    def shortfall(self, claims: AccessClaims, now: float, leeway: int) -> Shortfall | None:
        """``None`` when ``claims`` meet the requirement at ``now`` (Unix seconds)."""
        if acting_for_itself(claims):
            if self.machine_clients:
                return None
            return self._short("This needs a person's login; a client's token for itself cannot step up.")
        if self.mfa and not is_mfa(claims):
            return self._short("This needs a login with a second factor (multi-factor authentication).")
        if self.acr_values and not _acr_meets(claims.acr, self.acr_values):
            return self._short(f"This needs a login at acr {' or '.join(self.acr_values)}.")
        if self.max_age is not None:
            if claims.auth_time is None:
                return self._short("This needs the time of the login (auth_time); the token has none.")
            if now - claims.auth_time > self.max_age + leeway:
                return self._short(f"This needs a login within the last {self.max_age} seconds.")
        return None

    def _short(self, description: str) -> Shortfall:
        return Shortfall(description, self.challenge_acr_values, self.max_age)


def requires_authentication(
    *, acr_values: Iterable[str] = (), max_age: int | None = None, machine_clients: bool = False
) -> dict[str, Any]:
    """Route options (``opt=``) saying the token's login must meet ``acr_values`` and/or
    ``max_age`` (seconds since ``auth_time``); see the module docstring for what counts.

    Checked by ``BearerAuthMiddleware`` right after the scopes, like ``requires_scopes`` (and merged
    with it the same way: ``opt={**requires_scopes(...), **requires_mfa()}``, or
    ``scoped_route(..., opt=requires_mfa())``). A mistake here is found when the route is defined.
    """
    values = tuple(acr_values)
    if not values and max_age is None:
        raise ValueError("name acr_values or max_age (or use requires_mfa)")
    if any(_ACR_VALUE.fullmatch(value) is None for value in values):
        raise ValueError(f"acr_values are single words without quotes or backslashes: {values!r}")
    return _opt(
        AuthenticationRequirement(acr_values=values, max_age=max_age, machine_clients=machine_clients)
    )


def requires_mfa(*, max_age: int | None = None, machine_clients: bool = False) -> dict[str, Any]:
    """Route options (``opt=``) saying the person logged in with a second factor (and, with
    ``max_age``, within that many seconds); the challenge asks for ``acr_values="2"``."""
    return _opt(AuthenticationRequirement(mfa=True, max_age=max_age, machine_clients=machine_clients))


def _opt(requirement: AuthenticationRequirement) -> dict[str, Any]:
    if requirement.max_age is not None and (isinstance(requirement.max_age, bool) or requirement.max_age < 0):
        raise ValueError(f"max_age is a number of seconds, not {requirement.max_age!r}")
    return {AUTHENTICATION_OPT: requirement}
