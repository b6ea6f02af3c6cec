"""Machine-generated secrets (client secrets, refresh tokens): 256 random bits, stored as SHA-256.

A slow password hash protects low-entropy human choices; a 256-bit random value cannot be guessed
from its SHA-256, so a fast digest (one lookup, one constant-time compare) is the right tool and
keeps client_credentials at thousands of tokens per second instead of ~45 per core.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["digest", "digests_match", "new_secret"]

SECRET_BYTES = 32  # 256 bits


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def digests_match(secret: str, stored: bytes) -> bool:
    return hmac.compare_digest(digest(secret), stored)
