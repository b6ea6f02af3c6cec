"""``GET|POST /login``: the hosted login form, for an authorization request or a ``/device`` page.

``/oauth/authorize`` itself answers with this form when a request needs a login (``ToLogin``):
the form then carries the request back in ``authorization``, validated again on the POST, so a
login through the form is two requests and stores no request. ``GET /login?request=<id>`` is the
form for a stored request (after a consent page, a pushed request, a second factor to set up).
Either way it names the app that asks ("to continue to ...") and prefills ``login_hint``;
``GET /login?return_to=/device...`` serves the device page (any other
``return_to`` is refused: no open redirect). The POST needs the CSRF token; wrong credentials
re-render the form with one generic error (400) whatever went wrong, a throttled attempt is the
429 page with ``Retry-After`` (``web/router.py``), a success sets the new session's cookie and
goes on (303), or, when a second factor is due, sets the pending login's cookie and goes to the
second step (``second_step_pages.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromQuery, QueryParameter

from auth_service.actors import RequestActors
from auth_service.audit.service import Actor
from auth_service.authorization.answers import respond
from auth_service.authorization.errors import RequestExpired
from auth_service.authorization.login import BrowserLogin, safe_return_to
from auth_service.authorization.second_step_cookie import SecondStepCookie
from auth_service.authorization.service import AuthorizationService, Pending, ToLogin
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.browser_sessions.service import BrowserSessions
from auth_service.tokens.credentials import BadCredentials
from auth_service.web.pages import LanguageQuery, Pages

__all__ = ["LoginForm", "LoginPages"]

AnyRequest = Request[Any, Any, Any]
MAX_EMAIL_ECHO = 320


class LoginForm(msgspec.Struct, frozen=True):
    email: str = ""
    password: str = ""
    request: str = ""
    authorization: str = ""
    return_to: str = ""


class LoginPages:
    """The login form's routes; its ``carried_form`` also answers the authorization endpoint."""

    __slots__ = (
        "_actors", "_authorization", "_cookie", "_extras", "_login", "_pages", "_second_cookie", "_sessions",
    )  # fmt: skip

    def __init__(
        self,
        authorization: AuthorizationService,
        login: BrowserLogin,
        sessions: BrowserSessions,
        cookie: SessionCookie,
        pages: Pages,
        actors: RequestActors,
        second_cookie: SecondStepCookie,
        extras: Callable[[], Mapping[str, Any]] = dict,
    ) -> None:
        """``extras``: what another context adds to each login page (the passkey button's options)."""
        self._extras = extras
        self._second_cookie = second_cookie
        self._authorization = authorization
        self._login = login
        self._sessions = sessions
        self._cookie = cookie
        self._pages = pages
        self._actors = actors

    async def form(
        self,
        request: AnyRequest,
        request_id: str | None,
        return_to: str | None,
        *,
        carried: str | None = None,
        email: str | None,
        failed: bool,
    ) -> Response[Any]:
        pending = await self._authorization.continued(request_id, carried)
        return self.render(request, pending, carried, return_to, email=email, failed=failed)

    def carried_form(self, request: AnyRequest, login: ToLogin) -> Response[Any]:
        """The form the authorization endpoint answers with (``ToLogin``)."""
        return self.render(request, login.pending, login.carried, None, email=None, failed=False)

    def render(
        self,
        request: AnyRequest,
        pending: Pending | None,
        carried: str | None,
        return_to: str | None,
        *,
        email: str | None,
        failed: bool,
    ) -> Response[Any]:
        """The form for ``pending`` (stored: named by id; else ``carried``), or to ``return_to``."""
        context: dict[str, Any] = dict.fromkeys(("request_id", "authorization", "return_to", "client_name"))
        ui_locales, targets, path = None, [], None
        query: LanguageQuery = {}
        if pending is not None:
            parameters = pending.request.parameters
            context["client_name"] = pending.client.client_name
            email = parameters.login_hint if email is None else email
            ui_locales, targets = parameters.ui_locales, [parameters.reply.redirect_uri]
            if pending.request.id is not None:
                context["request_id"] = str(pending.request.id)
                query = {"request": str(pending.request.id)}
            else:  # the language links ask the authorization endpoint again, in the other language
                context["authorization"], path = carried, "/oauth/authorize"
                query = carried or ""
        elif safe_return_to(return_to):
            context["return_to"] = return_to
            query = {"return_to": return_to or ""}
        else:
            raise RequestExpired
        context.update(self._extras(), email=(email or "")[:MAX_EMAIL_ECHO], failed=failed)
        return self._pages.page(
            request,
            "login.html",
            context,
            locale=self._pages.locale(request, ui_locales),
            status_code=400 if failed else 200,
            form_targets=targets,
            query=query,
            language_path=path,
        )

    async def submit(self, request: AnyRequest, data: LoginForm) -> Response[Any]:
        request_id, carried = data.request or None, data.authorization or None
        return_to = data.return_to or None
        current = await self._sessions.current(self._cookie.read(request))
        try:
            answer, secret = await self._login.login(
                data.email,
                data.password,
                request_id=request_id,
                carried=carried,
                return_to=return_to,
                current=current,
                actor=Actor(id=None, source_ip=self._actors.client_ip(request)),
                user_agent=request.headers.get("user-agent"),
            )
        except BadCredentials:
            email = data.email
            return await self.form(request, request_id, return_to, carried=carried, email=email, failed=True)
        locale = self._pages.locale(request)
        jar = self._second_cookie if secret.second_step else self._cookie
        cookie = jar.set(secret.secret)
        return respond(self._pages, request, answer, locale=locale, cookies=[cookie])

    def handlers(self) -> list[HTTPRouteHandler]:
        @get("/login", name="login")
        async def login_page(
            request: AnyRequest,
            request_id: Annotated[str | None, QueryParameter(name="request")] = None,
            return_to: FromQuery[str | None] = None,
        ) -> Response[Any]:
            return await self.form(request, request_id, return_to, email=None, failed=False)

        @post("/login", name="login_submit", status_code=200)
        async def login_submit(
            request: AnyRequest, data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
        ) -> Response[Any]:
            return await self.submit(request, data)

        return [login_page, login_submit]
