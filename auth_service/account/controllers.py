"""``/account``: the signed-in person's own page: password, second factors, sessions, consents.

A hosted page (``web/router.py``: CSRF on every POST, the security headers, HTML error pages).
Each change is a plain form POST that answers 303 back to ``/account?done=...``; a refused one
re-renders the page (400) with the error in its section, tied to the field
(``aria-describedby``). A throttled attempt is the 429 page. No script is needed anywhere.
The second factors' routes are in ``factor_pages.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromQuery

from auth_service.account.factor_pages import factor_pages
from auth_service.account.pages import ACCOUNT_PATH, AccountPages, AccountSection
from auth_service.account.service import AccountService
from auth_service.actors import RequestActors
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.browser_sessions.service import BrowserSessions
from auth_service.errors import WeakPassword, WrongPassword
from auth_service.web.pages import Pages

__all__ = ["ConsentForm", "PasswordForm", "SessionForm", "account_pages"]

AnyRequest = Request[Any, Any, Any]
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
MAX_PASSWORD_CHARS = 1024


class PasswordForm(msgspec.Struct, frozen=True):
    current_password: str = ""
    new_password: str = ""


class SessionForm(msgspec.Struct, frozen=True):
    session: str = ""


class ConsentForm(msgspec.Struct, frozen=True):
    client_id: str = ""


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def _overview_handlers(view: AccountPages) -> list[HTTPRouteHandler]:
    @get(ACCOUNT_PATH, name="account")
    async def account_page(request: AnyRequest, done: FromQuery[str | None] = None) -> Response[Any]:
        session = await view.session(request)
        if session is None:
            return view.to_login()
        return await view.overview(request, session, notice=done)

    @post(f"{ACCOUNT_PATH}/password", name="account_password", status_code=200)
    async def change_password(request: AnyRequest, data: Annotated[PasswordForm, FORM]) -> Response[Any]:
        session = await view.session(request)
        if session is None:
            return view.to_login()
        current, new = data.current_password[:MAX_PASSWORD_CHARS], data.new_password[:MAX_PASSWORD_CHARS]
        try:
            await view.account.change_password(session, current, new, view.actor(request, session))
        except WrongPassword:
            return await view.overview(request, session, errors={"password": "current"}, status=400)
        except WeakPassword:
            return await view.overview(request, session, errors={"password": "weak"}, status=400)
        return view.done("password_changed")

    return [account_page, change_password]


def _session_and_consent_handlers(view: AccountPages) -> list[HTTPRouteHandler]:
    @post(f"{ACCOUNT_PATH}/sessions/end", name="account_end_session", status_code=200)
    async def end_session(request: AnyRequest, data: Annotated[SessionForm, FORM]) -> Response[Any]:
        session = await view.session(request)
        if session is None:
            return view.to_login()
        target = _uuid(data.session)
        if target is None or target == session.id:  # this browser's own: signing out is the app's logout
            return view.done("nothing_changed")
        ended = await view.account.end_session(session.user_id, target, view.actor(request, session))
        return view.done("session_ended" if ended else "nothing_changed")

    @post(f"{ACCOUNT_PATH}/consents/revoke", name="account_revoke_consent", status_code=200)
    async def revoke_consent(request: AnyRequest, data: Annotated[ConsentForm, FORM]) -> Response[Any]:
        session = await view.session(request)
        if session is None:
            return view.to_login()
        client_id = data.client_id[:100]
        revoked = await view.account.revoke_consent(session.user_id, client_id, view.actor(request, session))
        return view.done("consent_revoked" if revoked else "nothing_changed")

    return [end_session, revoke_consent]


def account_pages(
    account: AccountService,
    sessions: BrowserSessions,
    cookie: SessionCookie,
    pages: Pages,
    actors: RequestActors,
    sections: Sequence[AccountSection] = (),
) -> list[HTTPRouteHandler]:
    """Every ``/account`` route, for the browser router; ``sections`` are other contexts' parts of
    the page (their own routes are theirs to mount)."""
    view = AccountPages(account, sessions, cookie, pages, actors, sections)
    return [*_overview_handlers(view), *_session_and_consent_handlers(view), *factor_pages(view)]
