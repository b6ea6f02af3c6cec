"""What can go wrong with a passkey, as domain errors (the hosted pages render each as a page).

Every failed ceremony is one ``PasskeyRefused`` whatever the cause, so a page tells an attacker
nothing about which check stopped them; the ``reason`` (and the library's ``note``) go to the
audit trail only.
"""

from __future__ import annotations

from typing import Literal

from auth_service.errors import NotFound
from shared.errors import DomainError

__all__ = [
    "PasskeyExists",
    "PasskeyNameMissing",
    "PasskeyNameTaken",
    "PasskeyNotFound",
    "PasskeyRefused",
    "RefusalReason",
    "StaleLogin",
    "TooManyPasskeys",
]

RefusalReason = Literal["expired", "malformed", "invalid", "unknown", "other_user", "cloned"]
"""``expired``: no live challenge for this browser (never asked, already used, too old);
``malformed``: not a WebAuthn answer; ``invalid``: origin, RP id, challenge, signature, user
verification or flags wrong; ``unknown``: no active account has this credential; ``other_user``:
the credential is someone else's; ``cloned``: its signature counter went back."""


class PasskeyRefused(DomainError):
    status = 400
    slug = "passkey-refused"
    detail = "The passkey could not be verified."

    def __init__(self, reason: RefusalReason, note: str | None = None) -> None:
        super().__init__()
        self.reason: RefusalReason = reason
        self.note = note[:300] if note else None


class PasskeyNotFound(NotFound):
    subject = "passkey"


class PasskeyNameTaken(DomainError):
    status = 409
    slug = "passkey-name-taken"
    detail = "Another of your passkeys has this name."


class PasskeyNameMissing(DomainError):
    status = 422
    slug = "passkey-name-missing"
    detail = "Give the passkey a name."


class PasskeyExists(DomainError):
    """The authenticator's credential is registered already (``excludeCredentials`` was ignored)."""

    status = 409
    slug = "passkey-exists"
    detail = "This passkey is registered already."


class StaleLogin(DomainError):
    """Adding a passkey needs a recent login (``AUTH_WEBAUTHN_REGISTRATION_MAX_AGE``)."""

    status = 401
    slug = "passkey-stale-login"
    detail = "Sign in again to add a passkey."


class TooManyPasskeys(DomainError):
    status = 409
    slug = "too-many-passkeys"
    detail = "You have as many passkeys as an account may hold; remove one first."
