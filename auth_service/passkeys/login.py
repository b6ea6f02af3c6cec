"""The passwordless login with a passkey: verify the assertion, start the session, go on.

The same path as the password form (``authorization/login.py``): a new browser session (new id and
secret, replacing the browser's previous one), the ``login`` audit event, then the authorization
request it was for or one of our own pages (``safe_return_to``: no open redirect). Only what the
session says differs: ``amr`` ``hwk`` or ``swk`` plus ``mfa`` (user verification is required, so
the device and the PIN or biometric that unlocked it are two factors) and ``acr`` ``2``.
"""

from __future__ import annotations

from auth_service.audit.service import Actor
from auth_service.authorization.errors import RequestExpired
from auth_service.authorization.login import safe_return_to
from auth_service.authorization.service import Answer, AuthorizationService, ToPage
from auth_service.browser_sessions.service import BrowserSession, BrowserSessions
from auth_service.oidc.assurance import ACR_TWO_FACTORS, AMR_MFA, reaches, with_methods
from auth_service.passkeys.assertions import PasskeyAssertions, UsedPasskey, key_method, passkey_amr
from auth_service.passkeys.repository import Passkey

__all__ = ["PasskeyLogin"]


class PasskeyLogin:
    __slots__ = ("_authorization", "_passkeys", "_sessions")

    def __init__(
        self,
        passkeys: PasskeyAssertions,
        sessions: BrowserSessions,
        authorization: AuthorizationService,
    ) -> None:
        self._passkeys = passkeys
        self._sessions = sessions
        self._authorization = authorization

    async def login(
        self,
        credential_json: str,
        *,
        request_id: str | None,
        carried: str | None,
        return_to: str | None,
        current: BrowserSession | None,
        actor: Actor,
        user_agent: str | None,
    ) -> tuple[Answer, str]:
        """Where the browser goes next and the new session's cookie secret (``request_id`` or
        ``carried``: the request, as for the password form). Raises ``PasskeyRefused`` or
        ``RequestExpired`` (nothing to continue)."""
        back = safe_return_to(return_to)
        read = await self._authorization.continued(request_id, carried)  # before the ceremony
        if read is None and back is None:
            raise RequestExpired
        used = await self._passkeys.authenticate(credential_json, None, actor)
        session, secret = await self._start(used, actor, user_agent, current, after_password=False)
        if read is not None:
            return await self._authorization.logged_in(read, session), secret
        assert back is not None
        return ToPage(back), secret

    async def renew(
        self, session: BrowserSession, passkey: Passkey, actor: Actor, user_agent: str | None
    ) -> str | None:
        """After a fresh login added ``passkey`` (its user verification included), the new session's
        cookie secret: renewed at level 2 as after a TOTP enrolment (new id, replacing the old one,
        whose apps carry over), so the person's first factor does not send them to log in again.
        ``None``: the session is at level 2 already."""
        if reaches(session.acr, ACR_TWO_FACTORS):
            return None
        amr = with_methods(session.amr, key_method(passkey.backup_eligible), AMR_MFA)
        _, secret = await self._sessions.start(
            session.user_id, amr=amr, acr=ACR_TWO_FACTORS, source_ip=actor.source_ip, user_agent=user_agent,
            replacing=session.id,
        )  # fmt: skip
        return secret

    async def _start(
        self,
        used: UsedPasskey,
        actor: Actor,
        user_agent: str | None,
        current: BrowserSession | None,
        *,
        after_password: bool,
    ) -> tuple[BrowserSession, str]:
        session, secret = await self._sessions.start(
            used.user_id,
            amr=passkey_amr(used, after_password=after_password),
            acr=ACR_TWO_FACTORS,
            source_ip=actor.source_ip,
            user_agent=user_agent,
            replacing=current.id if current else None,
            login={"method": "passkey", "passkey": str(used.passkey_id)},
        )
        return session, secret
