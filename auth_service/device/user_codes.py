"""User codes (RFC 8628 section 6.1): short enough to type, hard enough to guess within their life.

Eight letters from twenty consonants (no vowels, so no words; no look-alikes such as 0/O or 1/I):
20^8 = 2.6e10 codes, about 34.5 bits. With the per-address limit on wrong codes at the page and a
ten-minute life, guessing a live one is hopeless. They are shown in two groups (``BCDF-GHJK``) and
stored normalised: upper case, no dash, so whatever case or separators a person types matches.
"""

from __future__ import annotations

import re
import secrets

__all__ = ["ALPHABET", "LENGTH", "display", "new_user_code", "normalise"]

ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
LENGTH = 8
_TYPED_NOISE = re.compile(r"[\s\-]+")
_STORED = re.compile(rf"^[{ALPHABET}]{{{LENGTH}}}$")


def new_user_code() -> str:
    """A fresh code, normalised (as stored)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(typed: str | None) -> str | None:
    """What a person typed as the stored form, or ``None`` if it cannot be a code of ours."""
    if typed is None:
        return None
    code = _TYPED_NOISE.sub("", typed).upper()
    return code if _STORED.match(code) else None


def display(code: str) -> str:
    """``BCDFGHJK`` as ``BCDF-GHJK``."""
    half = LENGTH // 2
    return f"{code[:half]}-{code[half:]}"
