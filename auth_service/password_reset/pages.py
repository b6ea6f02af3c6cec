"""``/password/forgot`` (ask for a link) and ``/password/reset`` (choose the new password).

The forgot form answers one page, 200, whatever the address: an account or not, active or
not (``PasswordResets.request`` also evens out the time); only text that is no email address
at all is sent back to be corrected, which says nothing about accounts. A throttled ask is the
429 page (``web/router.py``). ``GET /password/reset?token=...`` shows the form without spending
the link (a scanner opening it changes nothing); the ``POST`` carries the secret in its body,
with the CSRF token, and checks the policy and the confirmation field. No page here redirects:
each links only to fixed paths of ours, so none can send anyone elsewhere.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromQuery

from auth_service.actors import RequestActors
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.errors import InvalidField, WeakPassword
from auth_service.password_reset.errors import ResetLinkInvalid
from auth_service.password_reset.service import PasswordResets
from auth_service.web.pages import Pages

__all__ = ["ForgotForm", "ResetForm", "password_reset_pages"]

AnyRequest = Request[Any, Any, Any]
MAX_EMAIL_ECHO = 320
FORGOT_PATH = "/password/forgot"
UrlEncoded = Body(media_type=RequestEncodingType.URL_ENCODED)


class ForgotForm(msgspec.Struct, frozen=True):
    email: str = ""


class ResetForm(msgspec.Struct, frozen=True):
    token: str = ""
    password: str = ""
    password_confirm: str = ""


class _ResetPages:
    __slots__ = ("_actors", "_cookie", "_min_length", "_pages", "_resets", "_ttl_minutes")

    def __init__(
        self,
        resets: PasswordResets,
        cookie: SessionCookie,
        pages: Pages,
        actors: RequestActors,
        *,
        min_length: int,
        ttl: int,
    ) -> None:
        self._resets = resets
        self._cookie = cookie
        self._pages = pages
        self._actors = actors
        self._min_length = min_length
        self._ttl_minutes = max(1, ttl // 60)

    def result(
        self, request: AnyRequest, key: str, *, status: int = 200, link: str | None = None
    ) -> Response[Any]:
        context = {
            "title": f"{key}.title", "text": f"{key}.text", "link": link,
            "link_label": "password.reset.invalid.link", "params": {"minutes": str(self._ttl_minutes)},
        }  # fmt: skip
        locale = self._pages.locale(request)
        cookies = [self._cookie.clear()] if key == "password.reset.done" else []
        return self._pages.page(request, "mail_result.html", context, locale=locale, status_code=status,
                                cookies=cookies, language_switch=False)  # fmt: skip

    def forgot_form(self, request: AnyRequest, email: str = "", *, wrong: bool = False) -> Response[Any]:
        context = {"email": email[:MAX_EMAIL_ECHO], "wrong": wrong}
        locale = self._pages.locale(request)
        return self._pages.page(request, "password_forgot.html", context, locale=locale,
                                status_code=400 if wrong else 200)  # fmt: skip

    async def forgot(self, request: AnyRequest, data: ForgotForm) -> Response[Any]:
        locale = self._pages.locale(request)
        try:
            await self._resets.request(data.email, self._actors.client_ip(request), hint=locale)
        except InvalidField:
            return self.forgot_form(request, data.email, wrong=True)
        return self.result(request, "password.forgot.sent")

    def reset_form(
        self, request: AnyRequest, token: str, email: str, error: str | None = None
    ) -> Response[Any]:
        context = {"token": token, "email": email, "error": error, "min_length": self._min_length}
        locale = self._pages.locale(request)
        return self._pages.page(request, "password_reset.html", context, locale=locale,
                                status_code=400 if error else 200)  # fmt: skip

    async def show(self, request: AnyRequest, token: str | None) -> Response[Any]:
        pending = await self._resets.pending(token)
        if token is None or pending is None:
            return self.result(request, "password.reset.invalid", status=400, link=FORGOT_PATH)
        return self.reset_form(request, token, pending.email)

    async def submit(self, request: AnyRequest, data: ResetForm) -> Response[Any]:
        pending = await self._resets.pending(data.token)
        if pending is None:
            return self.result(request, "password.reset.invalid", status=400, link=FORGOT_PATH)
        if data.password != data.password_confirm:
            return self.reset_form(request, data.token, pending.email, "password.reset.error.mismatch")
        try:
            await self._resets.reset(
                data.token, data.password, self._actors.client_ip(request), hint=self._pages.locale(request)
            )
        except WeakPassword:
            return self.reset_form(request, data.token, pending.email, "password.reset.error.weak")
        except ResetLinkInvalid:
            return self.result(request, "password.reset.invalid", status=400, link=FORGOT_PATH)
        return self.result(request, "password.reset.done")


def password_reset_pages(
    resets: PasswordResets,
    cookie: SessionCookie,
    pages: Pages,
    actors: RequestActors,
    *,
    min_length: int,
    ttl: int,
) -> list[HTTPRouteHandler]:
    """``min_length``: the policy's (said next to the field); ``ttl``: the link's, in seconds."""
    handlers = _ResetPages(resets, cookie, pages, actors, min_length=min_length, ttl=ttl)

    @get(FORGOT_PATH, name="password_forgot")
    async def forgot_page(request: AnyRequest) -> Response[Any]:
        return handlers.forgot_form(request)

    @post(FORGOT_PATH, name="password_forgot_submit", status_code=200)
    async def forgot_submit(request: AnyRequest, data: Annotated[ForgotForm, UrlEncoded]) -> Response[Any]:
        return await handlers.forgot(request, data)

    @get("/password/reset", name="password_reset")
    async def reset_page(request: AnyRequest, token: FromQuery[str | None] = None) -> Response[Any]:
        return await handlers.show(request, token)

    @post("/password/reset", name="password_reset_submit", status_code=200)
    async def reset_submit(request: AnyRequest, data: Annotated[ResetForm, UrlEncoded]) -> Response[Any]:
        return await handlers.submit(request, data)

    return [forgot_page, forgot_submit, reset_page, reset_submit]
