"""CSRF protection of the hosted pages' forms: Litestar's double-submit cookie, on our routes only.

``CSRFMiddleware`` runs on the browser router (not the API, whose bearer tokens are not ambient):
a safe request gets a signed token in a cookie, every unsafe one must send it back in the form
field ``_csrf_token`` (or the ``X-CSRFToken`` header), else 403. Routes that receive cross-site
POSTs by design (``POST /oauth/authorize``, ``POST /oauth/logout``) opt out with
``opt={"exclude_from_csrf": True}``; a page rendered from one still gets a token
(``CsrfTokens.ensure``), so its own form works.

The signing secret is derived from the key-encryption key: the same on every replica, nothing new
to configure. The cookie is ``__Host-`` prefixed over https (no ``Domain``, ``Path=/``, ``Secure``),
``HttpOnly`` (no script reads it: the token reaches the page in the form) and ``SameSite=Lax``.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any, Final

from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import (
    CSRF_SECRET_LENGTH,
    CSRFMiddleware,
    generate_csrf_hash,
    generate_csrf_token,
)
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState

if TYPE_CHECKING:
    from litestar import Request

__all__ = ["CSRF_FIELD", "CsrfTokens"]

CSRF_FIELD: Final = "_csrf_token"
"""The form field Litestar's middleware reads (forms must send it; msgspec ignores it in ``data``)."""


class CsrfTokens:
    """The CSRF configuration of the browser routes, and the token of the request being answered."""

    __slots__ = ("config",)

    def __init__(self, secret: bytes, *, secure: bool) -> None:
        self.config = CSRFConfig(
            secret=secret.hex(),
            cookie_name="__Host-csrf" if secure else "csrf",
            cookie_path="/",
            cookie_secure=secure,
            cookie_httponly=True,
            cookie_samesite="lax",
        )

    def middleware(self) -> DefineMiddleware:
        return DefineMiddleware(CSRFMiddleware, config=self.config)

    def _valid(self, token: str) -> bool:
        if len(token) <= CSRF_SECRET_LENGTH:
            return False
        expected = generate_csrf_hash(token=token[:CSRF_SECRET_LENGTH], secret=self.config.secret)
        return hmac.compare_digest(token[CSRF_SECRET_LENGTH:], expected)

    def ensure(self, request: Request[Any, Any, Any]) -> tuple[str, Cookie | None]:
        """The request's token, and the cookie to set when it is new. The middleware has set one on
        every route it guards; an exempt route's page takes the cookie's (if genuine) or a new one."""
        state = ScopeState.from_scope(request.scope)
        token = value_or_default(state.csrf_token, "")
        if token:
            return token, None
        cookie = request.cookies.get(self.config.cookie_name, "")
        if self._valid(cookie):
            state.csrf_token = cookie
            return cookie, None
        token = state.csrf_token = generate_csrf_token(secret=self.config.secret)
        return token, Cookie(
            key=self.config.cookie_name,
            value=token,
            path="/",
            secure=self.config.cookie_secure,
            httponly=True,
            samesite="lax",
        )
