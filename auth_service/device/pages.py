"""The ``/device`` pages (RFC 8628 section 3.3): a person types the code, sees who asks, allows or denies.

Behind the same login as the code flow: without a live browser session the page sends the browser
to ``/login?return_to=/device...`` (the code kept when it is one of ours) and comes back after.
The code form is a GET (looking a code up changes nothing; every try still counts against the
address, ``DeviceAuthorizations.find``); the answer is a POST with the CSRF token. The confirmation
is always shown, naming the app and what it will get, even when the link carried the code
(``verification_uri_complete``): a code can be phished remotely (section 5.4), and this page is
where the person can notice it.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromQuery
from litestar.response import Redirect

from auth_service.actors import RequestActors
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.browser_sessions.service import BrowserSession, BrowserSessions
from auth_service.device.repository import PendingDevice
from auth_service.device.service import DeviceAuthorizations
from auth_service.device.user_codes import display, normalise
from auth_service.users.service import UserService
from auth_service.web.messages import Translator
from auth_service.web.pages import Pages

__all__ = ["DeviceAnswer", "device_pages", "scope_labels"]

AnyRequest = Request[Any, Any, Any]
_RESULTS = {"allowed": "device.done", "denied": "device.denied", "gone": "device.gone"}


class DeviceAnswer(msgspec.Struct, frozen=True):
    """The confirmation form: the code and the person's answer (``allow`` or ``deny``)."""

    user_code: str = ""
    action: str = ""


def scope_labels(t: Translator, scopes: list[str]) -> list[tuple[str, str | None]]:
    """Each scope with its plain words when the catalog has them (the consent page's), else None."""
    return [(s, t(f"consent.scope.{s}") if t.has(f"consent.scope.{s}") else None) for s in scopes]


def _login_redirect(user_code: str | None) -> Redirect:
    """To the login page, coming back here with the code (only one of ours: no open redirect)."""
    code = normalise(user_code)
    back = f"/device?{urlencode({'user_code': display(code)})}" if code else "/device"
    return Redirect(f"/login?return_to={quote(back, safe='')}", status_code=303)


class _DevicePages:
    __slots__ = ("_actors", "_cookie", "_device", "_pages", "_sessions", "_users")

    def __init__(
        self,
        device: DeviceAuthorizations,
        sessions: BrowserSessions,
        cookie: SessionCookie,
        users: UserService,
        pages: Pages,
        actors: RequestActors,
    ) -> None:
        self._device = device
        self._sessions = sessions
        self._cookie = cookie
        self._users = users
        self._pages = pages
        self._actors = actors

    async def session(self, request: AnyRequest) -> BrowserSession | None:
        return await self._sessions.current(self._cookie.read(request))

    def code_form(self, request: AnyRequest, typed: str | None, *, wrong: bool) -> Response[Any]:
        context = {"user_code": (typed or "")[:32], "wrong": wrong}
        locale = self._pages.locale(request)
        status = 400 if wrong else 200
        return self._pages.page(request, "device.html", context, locale=locale, status_code=status)

    async def confirmation(
        self, request: AnyRequest, pending: PendingDevice, session: BrowserSession
    ) -> Response[Any]:
        locale = self._pages.locale(request)
        user = await self._users.get(session.user_id)
        context = {
            "client_name": pending.client_name,
            "user_code": display(pending.user_code),
            "scopes": scope_labels(self._pages.translator(locale), pending.scopes),
            "email": user.email,
        }
        query = {"user_code": display(pending.user_code)}
        return self._pages.page(request, "device_confirm.html", context, locale=locale, query=query)

    def result(self, request: AnyRequest, outcome: str) -> Response[Any]:
        key = _RESULTS[outcome]
        context = {"title": f"{key}.title", "text": f"{key}.text"}
        status = 400 if outcome == "gone" else 200
        locale = self._pages.locale(request)
        return self._pages.page(
            request, "device_result.html", context, locale=locale, status_code=status, language_switch=False
        )

    async def show(self, request: AnyRequest, user_code: str | None) -> Response[Any]:
        session = await self.session(request)
        if session is None:
            return _login_redirect(user_code)
        if not user_code:
            return self.code_form(request, None, wrong=False)
        pending = await self._device.find(user_code, self._actors.client_ip(request))
        if pending is None:
            return self.code_form(request, user_code, wrong=True)
        return await self.confirmation(request, pending, session)

    async def answer(self, request: AnyRequest, data: DeviceAnswer) -> Response[Any]:
        session = await self.session(request)
        if session is None:
            return _login_redirect(data.user_code)
        if data.action not in ("allow", "deny"):
            return self.code_form(request, data.user_code, wrong=True)
        source_ip = self._actors.client_ip(request)
        pending = await self._device.find(data.user_code, source_ip)
        if pending is None:
            return self.result(request, "gone")
        if data.action == "deny":
            done = await self._device.deny(pending, user_id=session.user_id, source_ip=source_ip)
            return self.result(request, "denied" if done else "gone")
        done = await self._device.approve(
            pending,
            user_id=session.user_id,
            browser_session_id=session.id,
            auth_time=session.auth_time,
            amr=session.amr,
            acr=session.acr,
            source_ip=source_ip,
        )
        return self.result(request, "allowed" if done else "gone")


def device_pages(
    device: DeviceAuthorizations,
    sessions: BrowserSessions,
    cookie: SessionCookie,
    users: UserService,
    pages: Pages,
    actors: RequestActors,
) -> list[HTTPRouteHandler]:
    handlers = _DevicePages(device, sessions, cookie, users, pages, actors)

    @get("/device", name="device")
    async def device_page(request: AnyRequest, user_code: FromQuery[str | None] = None) -> Response[Any]:
        return await handlers.show(request, user_code)

    @post("/device", name="device_answer", status_code=200)
    async def device_answer(
        request: AnyRequest,
        data: Annotated[DeviceAnswer, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[Any]:
        return await handlers.answer(request, data)

    return [device_page, device_answer]
