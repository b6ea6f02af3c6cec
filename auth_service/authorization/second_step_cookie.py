"""The pending login's cookie: a random secret between the password and the second factor.

Like the session cookie (``browser_sessions/cookies.py``): ``__Host-`` prefixed over https,
``HttpOnly``, ``SameSite=Lax``, the state server-side. It lives only as long as a pending login may
(``AUTH_SECOND_STEP_TTL``) and is cleared once the login is finished; it opens nothing but the
second-step page of the person whose password was right.
"""

from __future__ import annotations

import re
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

__all__ = ["SecondStepCookie"]

_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")


class SecondStepCookie:
    __slots__ = ("_max_age", "_secure", "name")

    def __init__(self, *, secure: bool, max_age: int) -> None:
        self._secure = secure
        self._max_age = max_age
        self.name = "__Host-auth_second_step" if secure else "auth_second_step"

    def read(self, request: ASGIConnection[Any, Any, Any, Any]) -> str | None:
        value = request.cookies.get(self.name)
        return value if value is not None and _SECRET.fullmatch(value) else None

    def set(self, secret: str) -> Cookie:
        return self._cookie(secret, self._max_age)

    def clear(self) -> Cookie:
        return self._cookie("", 0)

    def _cookie(self, value: str, max_age: int) -> Cookie:
        return Cookie(
            key=self.name, value=value, max_age=max_age, path="/", httponly=True, secure=self._secure,
            samesite="lax",
        )  # fmt: skip
