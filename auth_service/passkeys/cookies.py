"""The ceremony cookie: the secret that binds a passkey ceremony's challenge to this browser.

Set with the options, sent back with the answer, cleared then. ``HttpOnly`` (no script needs it:
the browser sends it with the form), ``SameSite=Strict`` (both requests come from our own pages)
and, over https, ``__Host-`` prefixed like the session cookie. It lives no longer than the
challenge it points at.
"""

from __future__ import annotations

from auth_service.browser_sessions.cookies import SecretCookie

__all__ = ["CeremonyCookie"]


class CeremonyCookie(SecretCookie):
    __slots__ = ()

    def __init__(self, *, secure: bool, max_age: int) -> None:
        super().__init__("webauthn", secure=secure, max_age=max_age, same_site="strict")
