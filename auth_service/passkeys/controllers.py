"""The passkey routes of the hosted pages: the passwordless login, and the account's passkey list.

The login page carries the discoverable login's options (``Passkeys.login_page``), so its passkey
button prompts at once; ``POST /passkeys/login/options`` answers fresh ones as JSON for a page
open longer than half a ceremony's lifetime (nothing is stored either way:
``login_challenges.py``). ``POST /passkeys/login`` takes the browser's answer from the login
page's passkey form (``credential``, with the ``request`` or ``return_to`` the password form
carries too) and answers exactly as the password login does: the new session's cookie and a 303
onwards (or the form_post page). Both need the CSRF token (the JSON one in ``X-CSRFToken``, which
``/static/passkeys.js`` copies from the page's form). A refused passkey is the error page
(``PasskeyRefused``, one message whatever the cause).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, post
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body

from auth_service.actors import RequestActors
from auth_service.audit.service import Actor
from auth_service.authorization.answers import respond
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.browser_sessions.service import BrowserSessions
from auth_service.passkeys.account_pages import account_passkey_pages
from auth_service.passkeys.assertions import PasskeyAssertions
from auth_service.passkeys.cookies import CeremonyCookie
from auth_service.passkeys.login import PasskeyLogin
from auth_service.passkeys.service import PasskeyService
from auth_service.web.pages import Pages

__all__ = ["PasskeyLoginForm", "passkey_pages"]

AnyRequest = Request[Any, Any, Any]


class PasskeyLoginForm(msgspec.Struct, frozen=True):
    credential: str = ""
    request: str = ""
    authorization: str = ""
    return_to: str = ""


def _login_handlers(
    login: PasskeyLogin,
    assertions: PasskeyAssertions,
    sessions: BrowserSessions,
    cookie: SessionCookie,
    pages: Pages,
    actors: RequestActors,
) -> list[HTTPRouteHandler]:
    @post("/passkeys/login/options", name="passkey_login_options", status_code=200, sync_to_thread=False)
    def login_options() -> Response[Any]:
        return Response(assertions.login_options(), headers={"Cache-Control": "no-store"})

    @post("/passkeys/login", name="passkey_login", status_code=200)
    async def passkey_login(
        request: AnyRequest,
        data: Annotated[PasskeyLoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[Any]:
        current = await sessions.current(cookie.read(request))
        answer, secret = await login.login(
            data.credential,
            request_id=data.request or None,
            carried=data.authorization or None,
            return_to=data.return_to or None,
            current=current,
            actor=Actor(id=None, source_ip=actors.client_ip(request)),
            user_agent=request.headers.get("user-agent"),
        )
        return respond(pages, request, answer, locale=pages.locale(request), cookies=[cookie.set(secret)])

    return [login_options, passkey_login]


def passkey_pages(
    login: PasskeyLogin,
    assertions: PasskeyAssertions,
    passkeys: PasskeyService,
    ceremony: CeremonyCookie,
    sessions: BrowserSessions,
    cookie: SessionCookie,
    pages: Pages,
    actors: RequestActors,
    *,
    limit: int,
) -> list[HTTPRouteHandler]:
    """Every passkey route, for the browser router."""
    return [
        *_login_handlers(login, assertions, sessions, cookie, pages, actors),
        *account_passkey_pages(passkeys, login, ceremony, sessions, cookie, pages, actors, limit=limit),
    ]
