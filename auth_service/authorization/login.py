"""The login form's work: check the credentials, start a new browser session, go on.

The credentials go through the same ``CredentialCheck`` as the password grant (throttling, dummy
hash, one answer for every failure). A success always starts a new session (new id and secret:
no session fixation), replacing the browser's previous one, and then either continues the
authorization request it was for or returns to one of our own pages: ``return_to`` must be a
``/device`` path, nothing else, so the login page can never be made to send anyone elsewhere.
"""

from __future__ import annotations

import re

from auth_service.audit.service import Actor, AuditTrail
from auth_service.authorization.errors import RequestExpired
from auth_service.authorization.service import Answer, AuthorizationService, ToPage
from auth_service.browser_sessions.service import BrowserSession, BrowserSessions
from auth_service.oidc.assurance import ACR_ONE_FACTOR, AMR_PASSWORD
from auth_service.tokens.credentials import CredentialCheck

__all__ = ["BrowserLogin", "safe_return_to"]

# A path of ours under /device, with an optional query of plain URL characters: no scheme, no
# host, no "//", dot segment or backslash a browser could read as another place, no fragment.
_RETURN_TO = re.compile(r"/device(/[A-Za-z0-9_-]+)*(\?[A-Za-z0-9._~%&=+-]*)?")


def safe_return_to(value: str | None) -> str | None:
    """``value`` when it is a ``/device`` path we may go back to, else ``None``."""
    return value if value is not None and _RETURN_TO.fullmatch(value) else None


class BrowserLogin:
    __slots__ = ("_audit", "_authorization", "_credentials", "_sessions")

    def __init__(
        self,
        credentials: CredentialCheck,
        sessions: BrowserSessions,
        authorization: AuthorizationService,
        audit: AuditTrail,
    ) -> None:
        self._credentials = credentials
        self._sessions = sessions
        self._authorization = authorization
        self._audit = audit

    async def login(
        self,
        email: str,
        password: str,
        *,
        request_id: str | None,
        return_to: str | None,
        current: BrowserSession | None,
        actor: Actor,
        user_agent: str | None,
    ) -> tuple[Answer, str]:
        """Where the browser goes next and the new session's cookie secret. Raises
        ``BadCredentials``, ``ThrottleRefusal`` or ``RequestExpired`` (nothing to continue)."""
        back = safe_return_to(return_to)
        if request_id is None and back is None:
            raise RequestExpired
        if request_id is not None:
            await self._authorization.pending(request_id)  # expired: say so before any password work
        user = await self._credentials.verify(email, password, actor)
        session, secret = await self._sessions.start(
            user.id,
            amr=[AMR_PASSWORD],
            acr=ACR_ONE_FACTOR,
            source_ip=actor.source_ip,
            user_agent=user_agent,
            replacing=current.id if current else None,
        )
        await self._audit.record(
            "login",
            Actor(id=str(user.id), source_ip=actor.source_ip),
            target_type="user",
            target_id=str(user.id),
            details={"browser_session": str(session.id)},
        )
        if request_id is not None:
            return await self._authorization.logged_in(request_id, session), secret
        assert back is not None
        return ToPage(back), secret
