"""The password policy of NIST SP 800-63B section 3.1.1.2, and nothing more.

Length limits (checked first, on the raw text, so a 1 MB "password" costs nothing), every Unicode
character allowed after NFKC normalisation, and a blocklist check: zxcvbn's frequency lists and
pattern matching (common passwords, dictionary words, keyboard walks, repeats, sequences, l33t)
with the email's local part as a context word, plus a plain "contains the local part" rule.
No composition rules, no expiry: NIST advises against both.
"""

from __future__ import annotations

import asyncio
import unicodedata

from zxcvbn import zxcvbn

from auth_service.passwords.hashing import normalise_password
from auth_service.settings import PasswordSettings

__all__ = ["PasswordPolicy", "PasswordRejected"]

# zxcvbn's cost grows faster than linearly with length; a long password's first 64 characters
# carry the judgement (a weak prefix that long is still weak, a strong one is strong).
_ANALYSED_CHARS = 64
_MIN_CONTEXT_WORD = 3


class PasswordRejected(ValueError):
    """The reason is shown to the person choosing the password."""


class PasswordPolicy:
    __slots__ = ("max_length", "min_length", "min_strength")

    def __init__(self, *, min_length: int, max_length: int, min_strength: int) -> None:
        self.min_length = min_length
        self.max_length = max_length
        self.min_strength = min_strength

    @classmethod
    def from_settings(cls, settings: PasswordSettings) -> PasswordPolicy:
        """The one way the app and the operator commands build it, so they judge passwords alike."""
        return cls(
            min_length=settings.password_min_length,
            max_length=settings.password_max_length,
            min_strength=settings.password_min_strength,
        )

    def check_length(self, password: str) -> str:
        """Return the normalised password, or raise before any expensive work when too long/short."""
        if len(password) > self.max_length * 4:
            raise PasswordRejected(f"The password must be at most {self.max_length} characters long.")
        normalised = normalise_password(password)
        length = len(normalised)
        if length > self.max_length:
            raise PasswordRejected(f"The password must be at most {self.max_length} characters long.")
        if length < self.min_length:
            raise PasswordRejected(f"The password must be at least {self.min_length} characters long.")
        return normalised

    async def check(self, password: str, email: str) -> str:
        """Return the normalised password when acceptable; raise ``PasswordRejected`` otherwise."""
        normalised = self.check_length(password)
        local = unicodedata.normalize("NFKC", email.rsplit("@", 1)[0]).casefold()
        if len(local) >= _MIN_CONTEXT_WORD and local in normalised.casefold():
            raise PasswordRejected("The password must not contain the email address's name part.")
        if self.min_strength:
            await asyncio.to_thread(self._check_strength, normalised, local)
        return normalised

    def _check_strength(self, password: str, local: str) -> None:
        head = password[:_ANALYSED_CHARS]
        result = zxcvbn(head, user_inputs=[local, "fintech", "auth"], max_length=_ANALYSED_CHARS)
        if result["score"] < self.min_strength:
            warning = result["feedback"]["warning"] or "It is too easy to guess."
            raise PasswordRejected(
                f"This password is too easy to guess: {warning.rstrip('.')}. "
                "A few unrelated words make a strong password."
            )
