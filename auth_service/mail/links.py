"""The secret of a mailed link (verification, password reset): 256 random bits, stored as SHA-256.

The mail holds the secret; the database holds only its digest (``random_secrets``), so reading
the tables opens no link. What arrives in a URL is checked for the secret's shape first: any
other text is no link of ours and costs no query.
"""

from __future__ import annotations

import re
from typing import Final

from auth_service.random_secrets import digest, new_secret

__all__ = ["link_digest", "new_link_secret"]

_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]{43}")
"""``secrets.token_urlsafe(32)``: 43 base64url characters."""


def new_link_secret() -> tuple[str, bytes]:
    """A fresh secret for a link, and the digest to store."""
    secret = new_secret()
    return secret, digest(secret)


def link_digest(text: str | None) -> bytes | None:
    """The digest to look up, or ``None`` when ``text`` cannot be one of our secrets."""
    if text is None or not _SHAPE.fullmatch(text):
        return None
    return digest(text)
