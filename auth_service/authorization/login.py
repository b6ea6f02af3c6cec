"""The login form's work: check the credentials, start a new browser session, go on.

The credentials go through the same ``CredentialCheck`` as the password grant (throttling, dummy
hash, one answer for every failure). A success always starts a new session (new id and secret:
no session fixation), replacing the browser's previous one, and then either continues the
authorization request it was for or returns to one of our own pages: ``return_to`` must be a
``/device`` or ``/account`` path, nothing else, so the login page can never be made to send
anyone elsewhere. When a second factor is due (``second_step.py``) no session starts yet: the
browser gets a pending login's secret and goes to the second step.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode
from uuid import UUID

import msgspec

from auth_service.audit.service import Actor
from auth_service.authorization.errors import RequestExpired
from auth_service.authorization.pending_logins import PendingLogin
from auth_service.authorization.second_step import SecondStep
from auth_service.authorization.service import SECOND_STEP_PATH, Answer, AuthorizationService, ToPage
from auth_service.browser_sessions.service import BrowserSession, BrowserSessions
from auth_service.oidc.assurance import ACR_ONE_FACTOR, AMR_PASSWORD
from auth_service.tokens.credentials import CredentialCheck

__all__ = ["BrowserLogin", "LoginSecret", "safe_return_to"]

# A path of ours under /device or /account, with an optional query of plain URL characters: no scheme, no
# host, no "//", dot segment or backslash a browser could read as another place, no fragment.
_RETURN_TO = re.compile(r"/(device|account)(/[A-Za-z0-9_-]+)*(\?[A-Za-z0-9._~%&=+-]*)?")


def safe_return_to(value: str | None) -> str | None:
    """``value`` when it is a ``/device`` or ``/account`` path we may go back to, else ``None``."""
    return value if value is not None and _RETURN_TO.fullmatch(value) else None


class LoginSecret(msgspec.Struct, frozen=True):
    """The cookie a login sets: the new session's secret, or a pending login's (``second_step``)."""

    secret: str
    second_step: bool = False


class BrowserLogin:
    __slots__ = ("_authorization", "_credentials", "_second_step", "_sessions")

    def __init__(
        self,
        credentials: CredentialCheck,
        sessions: BrowserSessions,
        authorization: AuthorizationService,
        second_step: SecondStep,
    ) -> None:
        self._credentials = credentials
        self._sessions = sessions
        self._authorization = authorization
        self._second_step = second_step

    async def login(
        self,
        email: str,
        password: str,
        *,
        request_id: str | None,
        carried: str | None,
        return_to: str | None,
        current: BrowserSession | None,
        actor: Actor,
        user_agent: str | None,
    ) -> tuple[Answer, LoginSecret]:
        """Where the browser goes next and the cookie to set. ``request_id`` or ``carried``: the
        authorization request the form names or carries. Raises ``BadCredentials``,
        ``ThrottleRefusal`` or ``RequestExpired`` (nothing to continue)."""
        back = safe_return_to(return_to)
        read = await self._authorization.continued(request_id, carried)  # said before any work
        if read is None and back is None:
            raise RequestExpired
        user = await self._credentials.verify(email, password, actor)
        replacing = current.id if current else None
        key = read.request.id if read else None
        login = PendingLogin(user.id, [AMR_PASSWORD], key, back, replacing, None)
        begun = await self._second_step.begin(login, read)
        if begun is not None:
            pending, key = begun
            return ToPage(_second_step_path(key)), LoginSecret(pending, second_step=True)
        session, secret = await self._sessions.start(
            user.id,
            amr=[AMR_PASSWORD],
            acr=ACR_ONE_FACTOR,
            source_ip=actor.source_ip,
            user_agent=user_agent,
            replacing=replacing,
            login={},
        )
        if read is not None:
            return await self._authorization.logged_in(read, session), LoginSecret(secret)
        assert back is not None
        return ToPage(back), LoginSecret(secret)


def _second_step_path(request_id: UUID | None) -> str:
    return SECOND_STEP_PATH + (f"?{urlencode({'request': str(request_id)})}" if request_id else "")
