"""The ceremony cookie: the secret that binds a passkey ceremony's challenge to this browser.

Set with the options, sent back with the answer, cleared then. ``HttpOnly`` (no script needs it:
the browser sends it with the form), ``SameSite=Strict`` (both requests come from our own pages)
and, over https, ``__Host-`` prefixed like the session cookie. It lives no longer than the
challenge it points at.
"""

from __future__ import annotations

import re
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

__all__ = ["CeremonyCookie"]

_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")


class CeremonyCookie:
    __slots__ = ("_max_age", "_secure", "name")

    def __init__(self, *, secure: bool, max_age: int) -> None:
        self._secure = secure
        self._max_age = max_age
        self.name = "__Host-webauthn" if secure else "webauthn"

    def read(self, request: ASGIConnection[Any, Any, Any, Any]) -> str | None:
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
            samesite="strict",
        )
