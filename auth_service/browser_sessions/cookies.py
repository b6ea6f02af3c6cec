"""The browser session cookie: a random secret, nothing else (the state is server-side).

Over https it is ``__Host-auth_session``: the prefix makes the browser refuse it unless it is
``Secure``, has ``Path=/`` and no ``Domain``, so no sibling subdomain can plant or overwrite it.
``HttpOnly`` keeps it from scripts; ``SameSite=Lax`` sends it on the top-level navigations an
authorization request is (a link or redirect from the app) but not on cross-site form POSTs.
"""

from __future__ import annotations

import re
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

__all__ = ["SessionCookie"]

# What ``random_secrets.new_secret`` makes: 32 bytes, URL-safe base64 without padding.
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")


class SessionCookie:
    __slots__ = ("_max_age", "_secure", "name")

    def __init__(self, *, secure: bool, max_age: int) -> None:
        self._secure = secure
        self._max_age = max_age
        self.name = "__Host-auth_session" if secure else "auth_session"

    def read(self, request: ASGIConnection[Any, Any, Any, Any]) -> str | None:
        """The secret the browser sent, or ``None`` (absent, or not something we could have set)."""
        value = request.cookies.get(self.name)
        return value if value is not None and _SECRET.fullmatch(value) else None

    def set(self, secret: str) -> Cookie:
        return self._cookie(secret, self._max_age)

    def clear(self) -> Cookie:
        return self._cookie("", 0)

    def _cookie(self, value: str, max_age: int) -> Cookie:
        return Cookie(
            key=self.name,
            value=value,
            max_age=max_age,
            path="/",
            httponly=True,
            secure=self._secure,
            samesite="lax",
        )
