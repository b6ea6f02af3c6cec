"""Cookies that carry only a random secret, the state server-side: the browser session's
(``SessionCookie``), and the pending second step's and a passkey ceremony's (``SecretCookie``).

Over https each is ``__Host-`` prefixed (``__Host-auth_session``): the prefix makes the browser
refuse it unless it is ``Secure``, has ``Path=/`` and no ``Domain``, so no sibling subdomain can
plant or overwrite it.
``HttpOnly`` keeps it from scripts; ``SameSite=Lax`` sends it on the top-level navigations an
authorization request is (a link or redirect from the app) but not on cross-site form POSTs;
``Strict`` where both requests come from our own pages (a passkey ceremony).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

__all__ = ["SecretCookie", "SessionCookie"]

# What ``random_secrets.new_secret`` makes: 32 bytes, URL-safe base64 without padding.
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")


class SecretCookie:
    __slots__ = ("_max_age", "_same_site", "_secure", "name")

    def __init__(
        self, name: str, *, secure: bool, max_age: int, same_site: Literal["lax", "strict"] = "lax"
    ) -> None:
        self._secure = secure
        self._max_age = max_age
        self._same_site: Literal["lax", "strict"] = same_site
        self.name = f"__Host-{name}" if secure else name

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
            samesite=self._same_site,
        )


class SessionCookie(SecretCookie):
    """The browser (SSO) session's: ``__Host-auth_session`` over https."""

    __slots__ = ()

    def __init__(self, *, secure: bool, max_age: int) -> None:
        super().__init__("auth_session", secure=secure, max_age=max_age)
