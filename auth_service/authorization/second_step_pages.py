"""``/login/second-factor``: the code after the password, or setting up TOTP when one is needed.

``GET`` shows the page for whoever is at the second step (``SecondStep.resolve``: the pending
login's cookie, or a step-up of the live session for ``?request=``); with neither it sends the
browser to the login form. The page has one form per kind of factor the person has, each a
partial ``second_factor_<kind>.html`` (``totp``, ``recovery_codes``; passkeys add theirs), each
posting its ``method`` and ``code``. A wrong code re-renders the page (400) with the error tied to
that form's field; a lock is the 429 page. A right code sets the new session's cookie, clears the
pending one and goes on (303). Enrolment shows the QR code (inline SVG) and the secret as text;
its first code confirms it, and the recovery codes are shown once before ``/continue`` goes on.
Every POST needs the CSRF token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, QueryParameter
from litestar.response import Redirect
from markupsafe import Markup

from auth_service.actors import RequestActors
from auth_service.audit.service import Actor
from auth_service.authorization.answers import respond
from auth_service.authorization.errors import RequestExpired
from auth_service.authorization.second_step import METHODS, SecondStep, Step
from auth_service.authorization.second_step_cookie import SecondStepCookie
from auth_service.authorization.service import SECOND_STEP_PATH, Answer, AuthorizationService
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.browser_sessions.service import BrowserSessions
from auth_service.factors import totp
from auth_service.factors.enrolment import Enrolments
from auth_service.factors.errors import NoEnrolment, WrongCode
from auth_service.factors.service import TOTP, SecondFactors
from auth_service.web.pages import Pages

__all__ = ["CodeForm", "second_step_pages"]

AnyRequest = Request[Any, Any, Any]
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
MAX_CODE_CHARS = 64


class CodeForm(msgspec.Struct, frozen=True):
    request: str = ""
    method: str = ""
    code: str = ""


class _SecondStepPages:
    __slots__ = ("_actors", "_authorization", "_cookie", "_enrolments", "_factors", "_pages", "_pending",
                 "_sessions", "_step")  # fmt: skip

    def __init__(
        self,
        step: SecondStep,
        authorization: AuthorizationService,
        factors: SecondFactors,
        enrolments: Enrolments,
        cookies: tuple[SessionCookie, SecondStepCookie],
        sessions: BrowserSessions,
        pages: Pages,
        actors: RequestActors,
    ) -> None:
        self._step, self._authorization, self._factors, self._enrolments = (
            step,
            authorization,
            factors,
            enrolments,
        )
        self._sessions, self._pages, self._actors = sessions, pages, actors
        self._cookie, self._pending = cookies

    async def resolve(self, request: AnyRequest, request_id: str | None) -> Step | None:
        session = await self._sessions.current(self._cookie.read(request))
        return await self._step.resolve(self._pending.read(request), session, request_id)

    def actor(self, request: AnyRequest, step: Step) -> Actor:
        return Actor(id=str(step.login.user_id), source_ip=self._actors.client_ip(request))

    @staticmethod
    def to_login(request_id: str | None) -> Response[Any]:
        if not request_id:
            raise RequestExpired
        return Redirect(f"/login?request={request_id}", status_code=303)

    async def page(
        self,
        request: AnyRequest,
        step: Step,
        template: str,
        context: dict[str, Any],
        status: int = 200,
        cookies: Sequence[Cookie] = (),
    ) -> Response[Any]:
        """``template`` for this step, in the request's language, its form allowed to end at the client."""
        ui_locales, targets, query, client = None, [], {}, None
        if step.login.request_id is not None:
            pending = await self._authorization.pending(str(step.login.request_id))
            parameters = pending.request.parameters
            ui_locales, targets, client = (
                parameters.ui_locales,
                [parameters.reply.redirect_uri],
                pending.client,
            )
            query = {"request": str(step.login.request_id)}
        full = {"request_id": query.get("request"), "client_name": client.client_name if client else None}
        return self._pages.page(
            request, template, {**full, **context}, locale=self._pages.locale(request, ui_locales),
            status_code=status, form_targets=targets, query=query, cookies=cookies,
        )  # fmt: skip

    async def verify_page(self, request: AnyRequest, step: Step, failed: str | None = None) -> Response[Any]:
        kinds = await self._factors.kinds(step.login.user_id)
        context = {"kinds": kinds, "failed": failed}
        return await self.page(request, step, "second_factor.html", context, 400 if failed else 200)

    async def enrol_page(self, request: AnyRequest, step: Step, failed: str | None = None) -> Response[Any]:
        enrolment = await self._enrolments.begin_totp(step.login.user_id, await self._step.email_of(step))
        locale = self._pages.locale(request)
        title = self._pages.translator(locale)("second_factor.enrol.qr_title")
        qr = Markup(totp.qr_svg(enrolment.uri, title))  # noqa: S704 - segno's markup of our own URI
        context = {"secret": enrolment.secret, "qr": qr, "failed": failed}
        return await self.page(request, step, "second_factor_enrol.html", context, 400 if failed else 200)

    def answer(self, request: AnyRequest, answer: Answer, cookies: list[Cookie]) -> Response[Any]:
        return respond(self._pages, request, answer, locale=self._pages.locale(request), cookies=cookies)

    async def show(self, request: AnyRequest, request_id: str | None) -> Response[Any]:
        step = await self.resolve(request, request_id)
        if step is None:
            return self.to_login(request_id)
        if step.due == "enrol":
            return await self.enrol_page(request, step)
        if step.due is None:  # nothing due any more (a factor reset meanwhile): the password suffices
            user_agent = request.headers.get("user-agent")
            answer, secret = await self._step.finish(step, (), self.actor(request, step), user_agent)
            return self.answer(request, answer, [self._cookie.set(secret), self._pending.clear()])
        return await self.verify_page(request, step)

    async def verify(self, request: AnyRequest, data: CodeForm) -> Response[Any]:
        step = await self.resolve(request, data.request or None)
        if step is None or step.due != "verify":
            return self.to_login(data.request or None)
        user_agent = request.headers.get("user-agent")
        code = data.code[:MAX_CODE_CHARS]
        try:
            answer, secret = await self._step.verify(
                step, data.method, code, self.actor(request, step), user_agent
            )
        except WrongCode:
            return await self.verify_page(request, step, failed=data.method)
        return self.answer(request, answer, [self._cookie.set(secret), self._pending.clear()])

    async def enrol(self, request: AnyRequest, data: CodeForm) -> Response[Any]:
        step = await self.resolve(request, data.request or None)
        if step is None or step.due != "enrol":
            return self.to_login(data.request or None)
        actor, user_agent = self.actor(request, step), request.headers.get("user-agent")
        try:
            codes = await self._enrolments.confirm_totp(step.login.user_id, data.code[:MAX_CODE_CHARS], actor)
        except (WrongCode, NoEnrolment) as exc:
            return await self.enrol_page(
                request, step, failed="expired" if isinstance(exc, NoEnrolment) else "code"
            )
        if codes is None:
            answer, secret = await self._step.finish(step, METHODS[TOTP], actor, user_agent)
            return self.answer(request, answer, [self._cookie.set(secret), self._pending.clear()])
        secret = await self._step.enrolled(step, actor, user_agent)
        context = {"codes": codes}
        return await self.page(
            request, step, "second_factor_codes.html", context, cookies=[self._cookie.set(secret)]
        )

    async def carry_on(self, request: AnyRequest) -> Response[Any]:
        session = await self._sessions.current(self._cookie.read(request))
        answer = await self._step.carry_on(self._pending.read(request), session)
        return self.answer(request, answer, [self._pending.clear()])


def second_step_pages(
    step: SecondStep,
    authorization: AuthorizationService,
    factors: SecondFactors,
    enrolments: Enrolments,
    cookies: tuple[SessionCookie, SecondStepCookie],
    sessions: BrowserSessions,
    pages: Pages,
    actors: RequestActors,
) -> list[HTTPRouteHandler]:
    handlers = _SecondStepPages(step, authorization, factors, enrolments, cookies, sessions, pages, actors)

    @get(SECOND_STEP_PATH, name="second_factor")
    async def second_factor_page(
        request: AnyRequest, request_id: Annotated[str | None, QueryParameter(name="request")] = None
    ) -> Response[Any]:
        return await handlers.show(request, request_id)

    @post(SECOND_STEP_PATH, name="second_factor_submit", status_code=200)
    async def second_factor_submit(request: AnyRequest, data: Annotated[CodeForm, FORM]) -> Response[Any]:
        return await handlers.verify(request, data)

    @post(f"{SECOND_STEP_PATH}/enrol", name="second_factor_enrol", status_code=200)
    async def second_factor_enrol(request: AnyRequest, data: Annotated[CodeForm, FORM]) -> Response[Any]:
        return await handlers.enrol(request, data)

    @post(f"{SECOND_STEP_PATH}/continue", name="second_factor_continue", status_code=200)
    async def second_factor_continue(request: AnyRequest) -> Response[Any]:
        return await handlers.carry_on(request)

    return [second_factor_page, second_factor_submit, second_factor_enrol, second_factor_continue]
