"""Recovery codes: ten single-use codes a person prints or stores, for when the phone is gone.

Each code is 12 characters of a 31-letter alphabet with nothing to misread (no ``i``, ``l``,
``o``, ``0`` or ``1``), about 59 random bits, shown as ``abcd-efgh-jkmn``. Stored as HMAC-SHA256
under the set's own random key (sealed with the key-encryption key), never as the code: a slow
password hash exists to protect low-entropy human choices, but a 59-bit random code cannot be
found from its HMAC without the key, and without the database the only way in is guessing online,
where the second-factor lockout allows a handful of tries against 10 codes in 2^59. So argon2
would only cost each use its milliseconds and memory, and buy nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Final
from uuid import UUID

__all__ = ["CODE_COUNT", "associated_data", "code_digest", "new_codes", "new_key", "normalise_code"]

CODE_COUNT: Final = 10
ALPHABET: Final = "abcdefghjkmnpqrstuvwxyz23456789"
GROUPS: Final = 3
GROUP_CHARS: Final = 4
KEY_BYTES: Final = 32
_NORMALISED = re.compile(f"[{ALPHABET}]{{{GROUPS * GROUP_CHARS}}}")
_SEPARATORS = re.compile(r"[\s-]+")


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def associated_data(user_id: UUID) -> bytes:
    """What a sealed set key is bound to: its owner."""
    return b"recovery-codes:" + user_id.bytes


def new_codes() -> list[str]:
    """``CODE_COUNT`` fresh codes as they are shown (grouped with hyphens)."""
    return [
        "-".join("".join(secrets.choice(ALPHABET) for _ in range(GROUP_CHARS)) for _ in range(GROUPS))
        for _ in range(CODE_COUNT)
    ]


def normalise_code(text: str) -> str | None:
    """The code without case, spaces or hyphens; ``None`` when it cannot be one of ours."""
    code = _SEPARATORS.sub("", text).lower()
    return code if _NORMALISED.fullmatch(code) else None


def code_digest(key: bytes, code: str) -> bytes:
    """HMAC-SHA256 of a code as shown or typed (normalised first); raises ``ValueError`` for text
    that cannot be a code."""
    normalised = normalise_code(code)
    if normalised is None:
        raise ValueError("not a recovery code")
    return hmac.new(key, normalised.encode("ascii"), hashlib.sha256).digest()
