"""``/account/passkeys``: the signed-in person's passkeys: list, add, rename, remove.

Behind the browser session (without one: the login page, coming back here). Listing, renaming and
removing are plain forms; adding needs the browser's WebAuthn API, so its form is shown only when
``/static/passkeys.js`` runs: it fetches the options (``POST /account/passkeys/options``, JSON,
the CSRF token in ``X-CSRFToken``), creates the credential and posts the answer with the form.
Every change ends in a 303 back to the list (``?done=added|renamed|removed`` for the notice); a
refused one re-renders the list with the error next to its field.
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import quote
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect

from auth_service.actors import RequestActors
from auth_service.audit.service import Actor
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.browser_sessions.service import BrowserSession, BrowserSessions
from auth_service.factors.errors import FactorRequired
from auth_service.passkeys.cookies import CeremonyCookie
from auth_service.passkeys.errors import (
    PasskeyExists,
    PasskeyNameMissing,
    PasskeyNameTaken,
    PasskeyRefused,
    StaleLogin,
    TooManyPasskeys,
)
from auth_service.passkeys.login import PasskeyLogin
from auth_service.passkeys.service import Passkey, PasskeyService
from auth_service.web.pages import Pages
from shared.errors import DomainError

__all__ = ["ACCOUNT_PASSKEYS", "NewPasskeyForm", "PasskeyNameForm", "PasskeyRow", "account_passkey_pages"]

AnyRequest = Request[Any, Any, Any]
ACCOUNT_PASSKEYS: Final = "/account/passkeys"
_DONE: Final = {"added", "renamed", "removed"}
FORM: Final = Body(media_type=RequestEncodingType.URL_ENCODED)
"""A form body (a module constant: the handlers' annotations are read from this module's globals)."""
_ERRORS: Final[dict[type[DomainError], str]] = {
    PasskeyRefused: "passkeys.error.refused",
    PasskeyExists: "passkeys.error.exists",
    PasskeyNameTaken: "passkeys.error.name_taken",
    PasskeyNameMissing: "passkeys.error.name_missing",
    TooManyPasskeys: "passkeys.error.too_many",
    FactorRequired: "passkeys.error.required",
}
"""What the page says next to the field when a change is refused (message keys)."""


class NewPasskeyForm(msgspec.Struct, frozen=True):
    name: str = ""
    credential: str = ""


class PasskeyNameForm(msgspec.Struct, frozen=True):
    name: str = ""


class PasskeyRow(msgspec.Struct, frozen=True):
    """One passkey as the list shows it: dates as ISO days, the backup state as a message key."""

    id: str
    name: str
    created: str
    last_used: str | None
    backup: str


def passkey_rows(passkeys: list[Passkey]) -> list[PasskeyRow]:
    return [
        PasskeyRow(
            id=str(p.id),
            name=p.name,
            created=p.created_at.date().isoformat(),
            last_used=p.last_used_at.date().isoformat() if p.last_used_at else None,
            backup="passkeys.backup."
            + ("synced" if p.backed_up else "not_backed_up" if p.backup_eligible else "device"),
        )
        for p in passkeys
    ]


class _AccountPasskeys:
    __slots__ = ("_actors", "_ceremony", "_cookie", "_limit", "_login", "_pages", "_passkeys", "_sessions")

    def __init__(
        self,
        passkeys: PasskeyService,
        login: PasskeyLogin,
        ceremony: CeremonyCookie,
        sessions: BrowserSessions,
        cookie: SessionCookie,
        pages: Pages,
        actors: RequestActors,
        limit: int,
    ) -> None:
        self._passkeys = passkeys
        self._login = login
        self._ceremony = ceremony
        self._sessions = sessions
        self._cookie = cookie
        self._pages = pages
        self._actors = actors
        self._limit = limit

    async def session(self, request: AnyRequest) -> BrowserSession | None:
        """The person's live session, if it may manage passkeys (``PasskeyService.may_manage``)."""
        session = await self._sessions.current(self._cookie.read(request))
        return session if session is not None and await self._passkeys.may_manage(session) else None

    def actor(self, request: AnyRequest, session: BrowserSession) -> Actor:
        return Actor(id=str(session.user_id), source_ip=self._actors.client_ip(request))

    async def show(
        self,
        request: AnyRequest,
        session: BrowserSession,
        *,
        done: str | None = None,
        error: tuple[str, DomainError] | None = None,
        name: str = "",
        recovery_codes: list[str] | None = None,
    ) -> Response[Any]:
        """``error``: which form it is about (``new`` or a passkey's id) and the refusal;
        ``recovery_codes``: the first ones, shown this once (the answer is no-store)."""
        passkeys = await self._passkeys.of_user(session.user_id)
        context = {
            "passkeys": passkey_rows(passkeys),
            "done": f"passkeys.done.{done}" if done in _DONE else None,
            "error_at": error[0] if error else None,
            "error": _ERRORS.get(type(error[1]), "passkeys.error.refused") if error else None,
            "full": len(passkeys) >= self._limit,
            "stale": not self._passkeys.fresh(session),
            "add_here": True,
            "new_name": name[:64],
            "recovery_codes": recovery_codes or [],
        }
        return self._pages.page(
            request,
            "passkeys.html",
            context,
            locale=self._pages.locale(request),
            status_code=error[1].status if error else 200,
            query={},
        )

    async def options(self, request: AnyRequest) -> Response[Any]:
        session = await self.session(request)
        if session is None:
            return Response({"error": "login_required"}, status_code=401)
        try:
            ceremony = await self._passkeys.registration_options(session, self._ceremony.read(request))
        except StaleLogin:
            return Response({"error": "login_required"}, status_code=401)
        return Response(ceremony.options, cookies=[self._ceremony.set(ceremony.secret)])

    async def add(self, request: AnyRequest, data: NewPasskeyForm) -> Response[Any]:
        session = await self.session(request)
        if session is None:
            return login_redirect()
        actor = self.actor(request, session)
        try:
            registered = await self._passkeys.register(
                session, data.credential, data.name, self._ceremony.read(request), actor
            )
        except StaleLogin:
            return login_redirect()
        except (PasskeyRefused, PasskeyExists, PasskeyNameTaken, TooManyPasskeys) as refused:
            answer = await self.show(request, session, error=("new", refused), name=data.name)
            answer.cookies.append(self._ceremony.clear())
            return answer
        renewed = await self._login.renew(
            session, registered.passkey, actor, request.headers.get("user-agent")
        )
        cookies = [self._ceremony.clear(), *([self._cookie.set(renewed)] if renewed else [])]
        if registered.recovery_codes:
            answer = await self.show(request, session, done="added", recovery_codes=registered.recovery_codes)
            answer.cookies.extend(cookies)
            return answer
        return Redirect(f"{ACCOUNT_PASSKEYS}?done=added", status_code=303, cookies=cookies)

    async def rename(self, request: AnyRequest, passkey_id: UUID, data: PasskeyNameForm) -> Response[Any]:
        session = await self.session(request)
        if session is None:
            return login_redirect()
        try:
            await self._passkeys.rename(session.user_id, passkey_id, data.name, self.actor(request, session))
        except (PasskeyNameTaken, PasskeyNameMissing) as refused:
            return await self.show(request, session, error=(str(passkey_id), refused))
        return Redirect(f"{ACCOUNT_PASSKEYS}?done=renamed", status_code=303)

    async def remove(self, request: AnyRequest, passkey_id: UUID) -> Response[Any]:
        session = await self.session(request)
        if session is None:
            return login_redirect()
        try:
            await self._passkeys.remove(session.user_id, passkey_id, self.actor(request, session))
        except FactorRequired as refused:
            return await self.show(request, session, error=(str(passkey_id), refused))
        return Redirect(f"{ACCOUNT_PASSKEYS}?done=removed", status_code=303)


def login_redirect() -> Redirect:
    """To the login page, coming back to the passkey list."""
    return Redirect(f"/login?return_to={quote(ACCOUNT_PASSKEYS, safe='')}", status_code=303)


def account_passkey_pages(
    passkeys: PasskeyService,
    login: PasskeyLogin,
    ceremony: CeremonyCookie,
    sessions: BrowserSessions,
    cookie: SessionCookie,
    pages: Pages,
    actors: RequestActors,
    *,
    limit: int,
) -> list[HTTPRouteHandler]:
    handlers = _AccountPasskeys(passkeys, login, ceremony, sessions, cookie, pages, actors, limit)

    @get(ACCOUNT_PASSKEYS, name="account_passkeys")
    async def passkey_list(request: AnyRequest, done: FromQuery[str | None] = None) -> Response[Any]:
        session = await handlers.session(request)
        if session is None:
            return login_redirect()
        return await handlers.show(request, session, done=done)

    @post(f"{ACCOUNT_PASSKEYS}/options", name="passkey_registration_options", status_code=200)
    async def registration_options(request: AnyRequest) -> Response[Any]:
        return await handlers.options(request)

    @post(ACCOUNT_PASSKEYS, name="passkey_add", status_code=200)
    async def add(request: AnyRequest, data: Annotated[NewPasskeyForm, FORM]) -> Response[Any]:
        return await handlers.add(request, data)

    @post(f"{ACCOUNT_PASSKEYS}/{{passkey_id:uuid}}/name", name="passkey_rename", status_code=200)
    async def rename(
        request: AnyRequest, passkey_id: FromPath[UUID], data: Annotated[PasskeyNameForm, FORM]
    ) -> Response[Any]:
        return await handlers.rename(request, passkey_id, data)

    @post(f"{ACCOUNT_PASSKEYS}/{{passkey_id:uuid}}/delete", name="passkey_remove", status_code=200)
    async def remove(request: AnyRequest, passkey_id: FromPath[UUID]) -> Response[Any]:
        return await handlers.remove(request, passkey_id)

    return [passkey_list, registration_options, add, rename, remove]
