"""The verification pages: ``/email/verify`` (the mailed link) and ``/account/email`` (ask for a new one).

``GET /email/verify?token=...`` only shows what the link would verify, with a button: mail
scanners, link previews and prefetching browsers open links, and must not verify (or spend) one
for the person. The button's ``POST /email/verify`` (CSRF token, the secret in the body) does.
``/account/email`` is behind the browser session (without one: the login page, coming back
here): it shows the address and whether it is verified, and its button asks for a new link,
throttled per user. Every link on these pages is a fixed path of ours: no redirect to anywhere
a request names.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromQuery
from litestar.response import Redirect

from auth_service.actors import RequestActors
from auth_service.audit.service import Actor
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.browser_sessions.service import BrowserSessions
from auth_service.users.service import UserService
from auth_service.verification.errors import EmailAlreadyVerified
from auth_service.verification.service import EmailVerification
from auth_service.web.pages import Pages

__all__ = ["ACCOUNT_EMAIL_PATH", "TokenForm", "verification_pages"]

AnyRequest = Request[Any, Any, Any]
ACCOUNT_EMAIL_PATH = "/account/email"


class TokenForm(msgspec.Struct, frozen=True):
    token: str = ""


class _VerificationPages:
    __slots__ = ("_actors", "_cookie", "_pages", "_sessions", "_users", "_verification")

    def __init__(
        self,
        verification: EmailVerification,
        users: UserService,
        sessions: BrowserSessions,
        cookie: SessionCookie,
        pages: Pages,
        actors: RequestActors,
    ) -> None:
        self._verification = verification
        self._users = users
        self._sessions = sessions
        self._cookie = cookie
        self._pages = pages
        self._actors = actors

    def result(self, request: AnyRequest, key: str, *, status: int = 200, **params: str) -> Response[Any]:
        context = {
            "title": f"{key}.title", "text": f"{key}.text", "params": params,
            "link": ACCOUNT_EMAIL_PATH if status >= 400 else None, "link_label": "email.account.open",
        }  # fmt: skip
        locale = self._pages.locale(request)
        return self._pages.page(
            request, "mail_result.html", context, locale=locale, status_code=status, language_switch=False
        )

    async def confirmation(self, request: AnyRequest, token: str | None) -> Response[Any]:
        pending = await self._verification.pending(token)
        if pending is None:
            return self.result(request, "email.invalid", status=400)
        context = {"token": token, "email": pending.email, "product": self._pages.brand.product_name}
        locale = self._pages.locale(request)
        return self._pages.page(request, "email_verify.html", context, locale=locale)

    async def confirm(self, request: AnyRequest, data: TokenForm) -> Response[Any]:
        used = await self._verification.confirm(data.token, self._actors.client_ip(request))
        if used is None:
            return self.result(request, "email.invalid", status=400)
        return self.result(request, "email.verified", email=used.email)

    async def account(self, request: AnyRequest, *, resend: bool) -> Response[Any]:
        session = await self._sessions.current(self._cookie.read(request))
        if session is None:
            return Redirect(f"/login?return_to={quote(ACCOUNT_EMAIL_PATH, safe='')}", status_code=303)
        locale = self._pages.locale(request)
        sent = False
        if resend:
            actor = Actor(id=str(session.user_id), source_ip=self._actors.client_ip(request))
            try:
                await self._verification.resend(session.user_id, actor, hint=locale)
                sent = True
            except EmailAlreadyVerified:
                pass
        user = await self._users.get(session.user_id)
        context = {"email": user.email, "verified": user.email_verified, "sent": sent}
        return self._pages.page(request, "account_email.html", context, locale=locale)


def verification_pages(
    verification: EmailVerification,
    users: UserService,
    sessions: BrowserSessions,
    cookie: SessionCookie,
    pages: Pages,
    actors: RequestActors,
) -> list[HTTPRouteHandler]:
    handlers = _VerificationPages(verification, users, sessions, cookie, pages, actors)

    @get("/email/verify", name="email_verify")
    async def verify_page(request: AnyRequest, token: FromQuery[str | None] = None) -> Response[Any]:
        return await handlers.confirmation(request, token)

    @post("/email/verify", name="email_verify_confirm", status_code=200)
    async def verify_confirm(
        request: AnyRequest, data: Annotated[TokenForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
    ) -> Response[Any]:
        return await handlers.confirm(request, data)

    @get(ACCOUNT_EMAIL_PATH, name="account_email")
    async def account_email(request: AnyRequest) -> Response[Any]:
        return await handlers.account(request, resend=False)

    @post(ACCOUNT_EMAIL_PATH, name="account_email_resend", status_code=200)
    async def account_email_resend(request: AnyRequest) -> Response[Any]:
        return await handlers.account(request, resend=True)

    return [verify_page, verify_confirm, account_email, account_email_resend]
