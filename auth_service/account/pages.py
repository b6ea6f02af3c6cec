"""What every account page shares: the signed-in person, the page itself, its sections.

A request without a live browser session, or with one that lacks a second factor now due, goes to
``/login?return_to=/account`` and comes back after. The account page (``account.html``) is a list
of sections, each its own partial ``account_<name>.html``: the password, TOTP, recovery codes,
then each ``AccountSection`` another context registers (passkeys), then sessions and consents. A
section's context is under ``extra[<name>]``; its forms post to its own routes. After a change
the browser is sent back to ``/account?done=<what>``, which only ever shows one of ``NOTICES``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Protocol
from uuid import UUID

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect

from auth_service.account.service import AccountService
from auth_service.actors import RequestActors
from auth_service.audit.service import Actor
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.browser_sessions.service import BrowserSession, BrowserSessions
from auth_service.web.pages import Pages

__all__ = ["ACCOUNT_PATH", "NOTICES", "AccountPages", "AccountSection"]

AnyRequest = Request[Any, Any, Any]
ACCOUNT_PATH: Final = "/account"
LOGIN_PATH: Final = "/login?return_to=%2Faccount"
NOTICES: Final = frozenset(
    {
        "password_changed",
        "totp_enrolled",
        "totp_removed",
        "session_ended",
        "consent_revoked",
        "nothing_changed",
    }
)
BEFORE: Final = ("password", "totp", "recovery_codes")
AFTER: Final = ("sessions", "consents")


class AccountSection(Protocol):
    """A section of the account page another context adds (``AccountServices.sections``)."""

    @property
    def name(self) -> str:
        """Its partial is ``account_<name>.html``; its context ``extra[<name>]``."""

    async def context(self, user_id: UUID) -> Mapping[str, Any]:
        """What its partial shows for this person."""


class AccountPages:
    __slots__ = ("_actors", "_cookie", "_sessions", "account", "pages", "sections")

    def __init__(
        self,
        account: AccountService,
        sessions: BrowserSessions,
        cookie: SessionCookie,
        pages: Pages,
        actors: RequestActors,
        sections: Sequence[AccountSection],
    ) -> None:
        self.account, self.pages, self.sections = account, pages, sections
        self._sessions, self._cookie, self._actors = sessions, cookie, actors

    async def session(self, request: AnyRequest) -> BrowserSession | None:
        """The person's live session, if it may open the account page."""
        session = await self._sessions.current(self._cookie.read(request))
        return session if session is not None and await self.account.signed_in(session) else None

    @staticmethod
    def to_login() -> Response[Any]:
        return Redirect(LOGIN_PATH, status_code=303)

    @staticmethod
    def done(notice: str, cookies: Sequence[Cookie] = ()) -> Response[Any]:
        return Redirect(f"{ACCOUNT_PATH}?done={notice}", status_code=303, cookies=list(cookies))

    def actor(self, request: AnyRequest, session: BrowserSession) -> Actor:
        return Actor(id=str(session.user_id), source_ip=self._actors.client_ip(request))

    def session_cookie(self, secret: str) -> Cookie:
        return self._cookie.set(secret)

    def page(
        self,
        request: AnyRequest,
        template: str,
        context: Mapping[str, Any],
        *,
        status: int = 200,
        cookies: Sequence[Cookie] = (),
    ) -> Response[Any]:
        locale = self.pages.locale(request)
        return self.pages.page(
            request, template, context, locale=locale, status_code=status, cookies=cookies, query={}
        )

    async def overview(
        self,
        request: AnyRequest,
        session: BrowserSession,
        *,
        notice: str | None = None,
        errors: Mapping[str, str] | None = None,
        status: int = 200,
    ) -> Response[Any]:
        """The account page; ``errors`` maps a section to its error's message key."""
        overview = await self.account.overview(session.user_id)
        extra = {section.name: await section.context(session.user_id) for section in self.sections}
        context = {
            "account": overview,
            "current_session": session.id,
            "notice": notice if notice in NOTICES else None,
            "errors": dict(errors or {}),
            "sections": [*BEFORE, *(section.name for section in self.sections), *AFTER],
            "extra": extra,
        }
        return self.page(request, "account.html", context, status=status)
