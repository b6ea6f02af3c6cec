"""The pending login's cookie: a random secret between the password and the second factor.

Like the session cookie (``browser_sessions/cookies.py``): ``__Host-`` prefixed over https,
``HttpOnly``, ``SameSite=Lax``, the state server-side. It lives only as long as a pending login may
(``AUTH_SECOND_STEP_TTL``) and is cleared once the login is finished; it opens nothing but the
second-step page of the person whose password was right.
"""

from __future__ import annotations

from auth_service.browser_sessions.cookies import SecretCookie

__all__ = ["SecondStepCookie"]


class SecondStepCookie(SecretCookie):
    __slots__ = ()

    def __init__(self, *, secure: bool, max_age: int) -> None:
        super().__init__("auth_second_step", secure=secure, max_age=max_age)
