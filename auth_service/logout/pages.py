"""``/oauth/logout`` (the ``end_session_endpoint``, GET or POST) and ``POST /logout`` (the confirmation).

``/oauth/logout`` receives cross-site requests by design (an app's "log out" link or form), so it
is exempt from CSRF and changes nothing unless the request proves itself: an ``id_token_hint``
naming the browser's current session (or no session at all). Anything else is a confirmation page
whose form (``POST /logout``) carries the CSRF token. Every parameter at most once; a refused
request is an error page (``LogoutRefused``), never a redirect. Ending clears the session cookie
and sends the browser to the registered ``post_logout_redirect_uri`` with ``state``, or shows that
the person is logged out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Request, Response, route
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect

from auth_service.actors import RequestActors
from auth_service.audit.service import Actor
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.browser_sessions.service import BrowserSession, BrowserSessions
from auth_service.logout.service import LogoutRefused, LogoutRequest, RpLogout
from auth_service.users.service import UserService
from auth_service.web.pages import Pages

__all__ = ["logout_pages"]

AnyRequest = Request[Any, Any, Any]
_FIELDS = frozenset(
    {"id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales", "logout_hint", "action"}
)


def _single(pairs: Iterable[tuple[str, Any]]) -> dict[str, str]:
    """Our parameters, each at most once (a repeat is refused); empty ones count as absent."""
    params: dict[str, str] = {}
    for name, value in pairs:
        if name not in _FIELDS:
            continue
        if name in params or not isinstance(value, str):
            raise LogoutRefused("logout.error.bad_request")
        if value:
            params[name] = value
    return params


async def _params(request: AnyRequest) -> dict[str, str]:
    if request.method == "GET":
        return _single(request.query_params.multi_items())
    return _single((await request.form()).multi_items())


class _LogoutPages:
    __slots__ = ("_actors", "_cookie", "_logout", "_pages", "_sessions", "_users")

    def __init__(
        self,
        logout: RpLogout,
        sessions: BrowserSessions,
        cookie: SessionCookie,
        users: UserService,
        pages: Pages,
        actors: RequestActors,
    ) -> None:
        self._logout = logout
        self._sessions = sessions
        self._cookie = cookie
        self._users = users
        self._pages = pages
        self._actors = actors

    async def handle(self, request: AnyRequest, *, confirmed: bool) -> Response[Any]:
        locale = self._pages.locale(request)
        try:
            params = await _params(request)
            locale = self._pages.locale(request, params.get("ui_locales"))
            asked = await self._logout.check(params, hint_allowed=not confirmed)
        except LogoutRefused as refused:
            return self._pages.error(
                request, locale=locale, status_code=400, title="logout.error.title", detail=refused.detail
            )
        session = await self._sessions.current(self._cookie.read(request))
        if confirmed and params.get("action") != "logout":
            return self.result(request, locale, "logout.stayed")
        if confirmed or self._logout.ends_at_once(asked, session):
            return await self.end(request, locale, asked, session)
        return await self.confirmation(request, locale, asked, session)

    async def end(
        self, request: AnyRequest, locale: str, asked: LogoutRequest, session: BrowserSession | None
    ) -> Response[Any]:
        if session is not None:
            actor = Actor(id=str(session.user_id), source_ip=self._actors.client_ip(request))
            await self._logout.end(session, actor)
        cleared = self._cookie.clear()
        destination = self._logout.destination(asked)
        if destination is None:
            return self.result(request, locale, "logout.done", cookies=[cleared])
        return Redirect(destination, status_code=303, cookies=[cleared])

    async def confirmation(
        self, request: AnyRequest, locale: str, asked: LogoutRequest, session: BrowserSession | None
    ) -> Response[Any]:
        assert session is not None  # no session ends at once
        user = await self._users.get(session.user_id)
        context = {
            "product": self._pages.brand.product_name,
            "client_name": asked.client_name,
            "email": user.email,
            "fields": asked.form(),
        }
        targets = [asked.post_logout_redirect_uri] if asked.post_logout_redirect_uri else []
        return self._pages.page(
            request,
            "logout_confirm.html",
            context,
            locale=locale,
            form_targets=targets,
            language_switch=False,
        )

    def result(
        self, request: AnyRequest, locale: str, key: str, cookies: list[Any] | None = None
    ) -> Response[Any]:
        context = {"title": f"{key}.title", "text": f"{key}.text"}
        return self._pages.page(
            request,
            "logout_result.html",
            context,
            locale=locale,
            cookies=cookies or (),
            language_switch=False,
        )


def logout_pages(
    logout: RpLogout,
    sessions: BrowserSessions,
    cookie: SessionCookie,
    users: UserService,
    pages: Pages,
    actors: RequestActors,
) -> list[HTTPRouteHandler]:
    handlers = _LogoutPages(logout, sessions, cookie, users, pages, actors)

    @route("/oauth/logout", http_method=["GET", "POST"], name="end_session", opt={"exclude_from_csrf": True})
    async def end_session(request: AnyRequest) -> Response[Any]:
        return await handlers.handle(request, confirmed=False)

    @route("/logout", http_method=["POST"], name="logout_confirmed", status_code=200)
    async def logout_confirmed(request: AnyRequest) -> Response[Any]:
        return await handlers.handle(request, confirmed=True)

    return [end_session, logout_confirmed]
