"""A passkey as the second factor, on the login's second step (``/login/second-factor``).

The second step's page includes ``second_factor_passkey.html`` when the person has a passkey: a
form that ``/static/passkeys.js`` runs. ``POST /passkeys/second-factor/options?request=<id>``
answers the options for whoever is at the second step (``SecondStep.resolve``: the pending login
of the browser's cookie, or a step-up of its live session for that request), naming that person's
credentials only, and binds the challenge to the person and the browser. ``POST
/passkeys/second-factor`` takes the assertion and finishes the login through the second step
(``SecondStep.finish``) with ``hwk`` or ``swk`` and ``mfa`` added to the password's ``pwd``:
a new session at ``acr`` 2, the pending login's cookie cleared, on to the app. Nobody at the
second step: the login page (the request's), as the code form does.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, post
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, QueryParameter
from litestar.response import Redirect

from auth_service.actors import RequestActors
from auth_service.audit.service import Actor
from auth_service.authorization.answers import respond
from auth_service.authorization.errors import RequestExpired
from auth_service.authorization.second_step import SecondStep, Step
from auth_service.authorization.second_step_cookie import SecondStepCookie
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.browser_sessions.service import BrowserSessions
from auth_service.oidc.assurance import AMR_PASSWORD
from auth_service.passkeys.assertions import PasskeyAssertions, passkey_amr
from auth_service.passkeys.cookies import CeremonyCookie
from auth_service.web.pages import Pages

__all__ = ["SECOND_FACTOR_KIND", "SecondFactorForm", "second_factor_pages"]

AnyRequest = Request[Any, Any, Any]
SECOND_FACTOR_KIND = "passkey"
"""``FactorInfo.kind`` of passkeys, and so the name of the second step's partial."""


class SecondFactorForm(msgspec.Struct, frozen=True):
    credential: str = ""
    request: str = ""


class _SecondFactorPages:
    __slots__ = ("_actors", "_assertions", "_ceremony", "_cookie", "_pages", "_pending", "_sessions", "_step")

    def __init__(
        self,
        assertions: PasskeyAssertions,
        step: SecondStep,
        cookies: tuple[SessionCookie, SecondStepCookie, CeremonyCookie],
        sessions: BrowserSessions,
        pages: Pages,
        actors: RequestActors,
    ) -> None:
        self._assertions, self._step, self._sessions = assertions, step, sessions
        self._pages, self._actors = pages, actors
        self._cookie, self._pending, self._ceremony = cookies

    async def resolve(self, request: AnyRequest, request_id: str | None) -> Step | None:
        session = await self._sessions.current(self._cookie.read(request))
        step = await self._step.resolve(self._pending.read(request), session, request_id)
        return step if step is not None and step.due == "verify" else None

    async def options(self, request: AnyRequest, request_id: str | None) -> Response[Any]:
        step = await self.resolve(request, request_id)
        if step is None:
            return Response({"error": "login_required"}, status_code=401)
        ceremony = await self._assertions.second_factor_options(
            step.login.user_id, self._ceremony.read(request)
        )
        return Response(ceremony.options, cookies=[self._ceremony.set(ceremony.secret)])

    async def verify(self, request: AnyRequest, data: SecondFactorForm) -> Response[Any]:
        request_id = data.request or None
        step = await self.resolve(request, request_id)
        if step is None:
            if not request_id:
                raise RequestExpired
            return Redirect(f"/login?request={request_id}", status_code=303)
        actor = Actor(id=str(step.login.user_id), source_ip=self._actors.client_ip(request))
        used = await self._assertions.authenticate(
            data.credential, self._ceremony.read(request), actor, user_id=step.login.user_id
        )
        added = tuple(m for m in passkey_amr(used, after_password=True) if m != AMR_PASSWORD)
        answer, secret = await self._step.finish(step, added, actor, request.headers.get("user-agent"))
        cookies = [self._cookie.set(secret), self._pending.clear(), self._ceremony.clear()]
        return respond(self._pages, request, answer, locale=self._pages.locale(request), cookies=cookies)


def second_factor_pages(
    assertions: PasskeyAssertions,
    step: SecondStep,
    cookies: tuple[SessionCookie, SecondStepCookie, CeremonyCookie],
    sessions: BrowserSessions,
    pages: Pages,
    actors: RequestActors,
) -> list[HTTPRouteHandler]:
    handlers = _SecondFactorPages(assertions, step, cookies, sessions, pages, actors)

    @post("/passkeys/second-factor/options", name="passkey_second_factor_options", status_code=200)
    async def second_factor_options(
        request: AnyRequest, request_id: Annotated[str | None, QueryParameter(name="request")] = None
    ) -> Response[Any]:
        return await handlers.options(request, request_id)

    @post("/passkeys/second-factor", name="passkey_second_factor", status_code=200)
    async def second_factor(
        request: AnyRequest,
        data: Annotated[SecondFactorForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[Any]:
        return await handlers.verify(request, data)

    return [second_factor_options, second_factor]
