"""How a login was made: ``amr`` values (RFC 8176) and ``acr`` levels, in ID and access tokens.

``acr`` is a level, as Keycloak's defaults have it: ``1`` is one factor (a password), ``2`` is
two (a password and a second factor); ``acr_values_supported`` in discovery lists exactly the
levels we can reach. A TOTP code adds ``otp`` and ``mfa``. A recovery code adds ``mfa`` alone:
RFC 8176 registers no method for a printed single-use code (``otp`` names the HOTP/TOTP
algorithms of RFC 4226 and 6238, which these codes are not), yet it is a second factor, a
look-up secret something-you-have in NIST SP 800-63B section 5.1.2, so the login is multi-factor.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ACR_ONE_FACTOR",
    "ACR_TWO_FACTORS",
    "ACR_VALUES_SUPPORTED",
    "AMR_HARDWARE_KEY",
    "AMR_MFA",
    "AMR_OTP",
    "AMR_PASSWORD",
    "AMR_SOFTWARE_KEY",
    "asked_acr",
    "reaches",
    "with_methods",
]

AMR_PASSWORD = "pwd"  # noqa: S105 - an RFC 8176 method name, not a secret
AMR_OTP = "otp"
AMR_MFA = "mfa"
# A passkey (proof of possession of a key): ``hwk`` when the credential is bound to its device
# (not backup eligible: the key never leaves the authenticator), ``swk`` when it is a synced passkey
# (backup eligible: the provider copies the key through its cloud, so no one piece of hardware holds it).
AMR_HARDWARE_KEY = "hwk"
AMR_SOFTWARE_KEY = "swk"
ACR_ONE_FACTOR = "1"
ACR_TWO_FACTORS = "2"
ACR_VALUES_SUPPORTED = (ACR_ONE_FACTOR, ACR_TWO_FACTORS)
_RANK = {level: rank for rank, level in enumerate(ACR_VALUES_SUPPORTED)}


def asked_acr(acr_values: Iterable[str]) -> str | None:
    """The level an authorization request's ``acr_values`` needs: the lowest level of ours it
    names (any of them would do for the client), ``None`` when it names none of ours."""
    ours = [value for value in acr_values if value in _RANK]
    return min(ours, key=_RANK.__getitem__) if ours else None


def reaches(acr: str, level: str) -> bool:
    """Whether a login at ``acr`` is at least ``level`` (an unknown ``acr`` reaches nothing)."""
    return _RANK.get(acr, -1) >= _RANK[level]


def with_methods(amr: Iterable[str], *added: str) -> list[str]:
    """``amr`` plus ``added``, each once, in the order first seen (``["pwd", "otp", "mfa"]``)."""
    return list(dict.fromkeys([*amr, *added]))
