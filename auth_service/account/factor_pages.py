"""``/account/totp`` and ``/account/recovery-codes``: setting up, removing, renewing second factors.

``GET /account/totp`` shows a new authenticator secret as a QR code (an inline SVG: nothing the
CSP must allow, no image request) and as text to type in; the form confirms it with a first code
and the password. Removing TOTP or renewing the recovery codes asks a code from the app or the
password (``AccountService.prove``). New recovery codes are shown once, on a page of their own
(``account_codes.html``), never again.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body
from markupsafe import Markup

from auth_service.account.pages import ACCOUNT_PATH, AccountPages
from auth_service.browser_sessions.service import BrowserSession
from auth_service.errors import WrongPassword
from auth_service.factors import totp
from auth_service.factors.errors import (
    FactorRequired,
    NoEnrolment,
    NoSecondFactor,
    TotpAlreadyEnrolled,
    WrongCode,
)

__all__ = ["ProofForm", "factor_pages"]

AnyRequest = Request[Any, Any, Any]
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
MAX_FIELD_CHARS = 1024


class ProofForm(msgspec.Struct, frozen=True):
    """A code of the TOTP app, or else the password (the enrolment asks both: its first code and
    the password)."""

    code: str = ""
    password: str = ""

    def bounded(self) -> tuple[str, str]:
        return self.code[:64], self.password[:MAX_FIELD_CHARS]


async def _setup_page(
    view: AccountPages, request: AnyRequest, session: BrowserSession, failed: str | None = None
) -> Response[Any]:
    try:
        enrolment = await view.account.begin_totp(session.user_id)
    except TotpAlreadyEnrolled:
        return view.done("nothing_changed")
    title = view.pages.translator(view.pages.locale(request))("second_factor.enrol.qr_title")
    qr = Markup(totp.qr_svg(enrolment.uri, title))  # noqa: S704 - segno's markup of our own URI
    context = {"secret": enrolment.secret, "qr": qr, "failed": failed}
    return view.page(request, "account_totp_setup.html", context, status=400 if failed else 200)


def _totp_handlers(view: AccountPages) -> list[HTTPRouteHandler]:
    @get(f"{ACCOUNT_PATH}/totp", name="account_totp")
    async def setup(request: AnyRequest) -> Response[Any]:
        session = await view.session(request)
        return view.to_login() if session is None else await _setup_page(view, request, session)

    @post(f"{ACCOUNT_PATH}/totp", name="account_totp_confirm", status_code=200)
    async def confirm(request: AnyRequest, data: Annotated[ProofForm, FORM]) -> Response[Any]:
        session = await view.session(request)
        if session is None:
            return view.to_login()
        code, password = data.bounded()
        actor, user_agent = view.actor(request, session), request.headers.get("user-agent")
        try:
            codes, secret = await view.account.confirm_totp(
                session, password=password, code=code, actor=actor, user_agent=user_agent
            )
        except WrongPassword:
            return await _setup_page(view, request, session, "password")
        except WrongCode:
            return await _setup_page(view, request, session, "code")
        except NoEnrolment:
            return await _setup_page(view, request, session, "expired")
        cookies = [view.session_cookie(secret)]
        if codes is None:
            return view.done("totp_enrolled", cookies)
        return view.page(request, "account_codes.html", {"codes": codes, "enrolled": True}, cookies=cookies)

    @post(f"{ACCOUNT_PATH}/totp/remove", name="account_totp_remove", status_code=200)
    async def remove(request: AnyRequest, data: Annotated[ProofForm, FORM]) -> Response[Any]:
        session = await view.session(request)
        if session is None:
            return view.to_login()
        code, password = data.bounded()
        try:
            await view.account.remove_totp(
                session.user_id, password=password, code=code, actor=view.actor(request, session)
            )
        except (WrongPassword, WrongCode):
            return await view.overview(request, session, errors={"totp": "proof"}, status=400)
        except FactorRequired:
            return await view.overview(request, session, errors={"totp": "required"}, status=400)
        except NoSecondFactor:
            return view.done("nothing_changed")
        return view.done("totp_removed")

    return [setup, confirm, remove]


def _recovery_handlers(view: AccountPages) -> list[HTTPRouteHandler]:
    @post(f"{ACCOUNT_PATH}/recovery-codes", name="account_recovery_codes", status_code=200)
    async def regenerate(request: AnyRequest, data: Annotated[ProofForm, FORM]) -> Response[Any]:
        session = await view.session(request)
        if session is None:
            return view.to_login()
        code, password = data.bounded()
        try:
            codes = await view.account.regenerate_recovery_codes(
                session.user_id, password=password, code=code, actor=view.actor(request, session)
            )
        except (WrongPassword, WrongCode):
            return await view.overview(request, session, errors={"recovery_codes": "proof"}, status=400)
        except NoSecondFactor:
            return view.done("nothing_changed")
        return view.page(request, "account_codes.html", {"codes": codes, "enrolled": False})

    return [regenerate]


def factor_pages(view: AccountPages) -> list[HTTPRouteHandler]:
    return [*_totp_handlers(view), *_recovery_handlers(view)]
