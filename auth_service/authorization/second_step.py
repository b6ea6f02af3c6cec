"""The login's second step: after the password, a code from a second factor (or setting one up).

Two ways in. After a right password, when ``SecondFactors.due`` says so, the login starts no
session yet: it stores a pending login (``pending_logins.py``) whose secret the browser holds in
a short-lived cookie, and the second step finishes it. Or a live session at level 1 meets a
request that needs level 2 (``acr_values=2``, or a person who has set up a factor since): a step-up,
where the session itself is the proof of the password, so only the second factor is asked, and
never when the request needs a full login anyway (``prompt=login``, ``max_age``).

Finishing always starts a new session (new id and secret, as after any login: a privilege change
renews the session), replacing the browser's previous one so the apps' sessions carry over, with
``amr`` the methods proven (``pwd`` plus ``otp`` and ``mfa`` for TOTP, ``mfa`` for a recovery
code: ``oidc/assurance.py``) and ``acr`` 2; the authorization request then goes on as after the
password. A person with no factor whose login needs one sets up TOTP right there (only with a
fresh password: a step-up from an old session is sent to the login page first); the new
recovery codes are shown once before the login goes on (``carry_on``).
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from auth_service.audit.service import Actor
from auth_service.authorization.errors import RequestExpired
from auth_service.authorization.outcomes import needs_login
from auth_service.authorization.pending_logins import PendingLogin, PendingLoginRepository
from auth_service.authorization.service import SECOND_STEP_PATH, Answer, AuthorizationService, Pending, ToPage
from auth_service.browser_sessions.service import BrowserSession, BrowserSessions
from auth_service.factors.errors import WrongCode
from auth_service.factors.service import RECOVERY_CODES, TOTP, Due, SecondFactors
from auth_service.oidc.assurance import (
    ACR_ONE_FACTOR,
    ACR_TWO_FACTORS,
    AMR_MFA,
    AMR_OTP,
    asked_acr,
    with_methods,
)
from auth_service.random_secrets import digest, new_secret
from auth_service.users.repository import UserRepository
from shared.db.pool import PostgresPool

__all__ = ["METHODS", "SECOND_STEP_PATH", "SecondStep", "Step"]

METHODS = {TOTP: (AMR_OTP, AMR_MFA), RECOVERY_CODES: (AMR_MFA,)}
"""The ``amr`` values each kind of code adds (passkeys finish through ``finish`` with their own)."""


class Step(msgspec.Struct, frozen=True):
    """A person at the second step: what is proven, where the login goes on, and what is due.
    ``secret`` is the pending login's (``None`` for a step-up of the live ``replacing`` session)."""

    login: PendingLogin
    due: Due | None
    secret: str | None


class SecondStep:
    __slots__ = ("_authorization", "_factors", "_pool", "_repo", "_sessions", "_ttl", "_users")

    def __init__(
        self,
        pool: PostgresPool,
        authorization: AuthorizationService,
        sessions: BrowserSessions,
        factors: SecondFactors,
        *,
        ttl: int,
    ) -> None:
        self._pool = pool
        self._authorization = authorization
        self._sessions = sessions
        self._factors = factors
        self._ttl = ttl
        self._repo = PendingLoginRepository()
        self._users = UserRepository()

    async def email_of(self, step: Step) -> str:
        """The address an authenticator app labels the new TOTP account with."""
        async with self._pool.acquire() as conn:
            user = await self._users.by_id(conn, step.login.user_id)
        if user is None:
            raise RequestExpired
        return user.email

    async def asked(self, request_id: UUID | str | None, read: Pending | None = None) -> str | None:
        """The ``acr`` the request asks for (``None``: none of ours, or no request); ``read``: the
        request if already read, stored or carried (else the stored one is read here)."""
        if read is None and request_id is not None:
            read = await self._authorization.pending(str(request_id))
        return None if read is None else asked_acr(read.request.parameters.acr_values)

    async def begin(self, login: PendingLogin, read: Pending | None = None) -> tuple[str, UUID | None] | None:
        """After the password: the pending login's secret and the id of the request it goes on
        with, or ``None`` when nothing more is due. ``read``: the login's request, as the login read
        it (else it is read here); one the form carried is stored now, for the step to name it."""
        asked = await self.asked(login.request_id, read)
        if await self._factors.due(login.user_id, acr=None, asked=asked) is None:
            return None
        if read is not None and read.request.id is None:
            login = msgspec.structs.replace(login, request_id=await self._authorization.store(read))
        secret = new_secret()
        async with self._pool.acquire() as conn:
            if await self._repo.create(conn, digest(secret), login, self._ttl) is None:
                raise RequestExpired
        return secret, login.request_id

    async def resolve(
        self, secret: str | None, session: BrowserSession | None, request_id: str | None
    ) -> Step | None:
        """Who is at the second step: the pending login the cookie opens (for this request, if one
        is named), else a step-up of ``session`` for ``request_id``; ``None`` when neither (the
        page sends the browser to the login form)."""
        if secret:
            async with self._pool.acquire() as conn:
                login = await self._repo.get(conn, digest(secret))
            if login is not None and login.session_id is None and request_id in (None, str(login.request_id)):
                due = await self._factors.due(
                    login.user_id, acr=None, asked=await self.asked(login.request_id)
                )
                return Step(login, due, secret)
        if session is None or request_id is None:
            return None
        pending = await self._authorization.pending(request_id)
        if needs_login(pending.request, session):
            return None
        asked = asked_acr(pending.request.parameters.acr_values)
        if await self._factors.due(session.user_id, acr=session.acr, asked=asked) != "verify":
            return None  # nothing to step up, or a factor to set up first (after a fresh password)
        login = PendingLogin(session.user_id, session.amr, pending.request.id, None, session.id, None)
        return Step(login, "verify", None)

    async def verify(
        self, step: Step, method: str, code: str, actor: Actor, user_agent: str | None
    ) -> tuple[Answer, str]:
        """Checks a code of kind ``method`` (``totp``, ``recovery_codes``) and finishes the login.
        Raises ``WrongCode``, a throttle refusal, or ``RequestExpired``."""
        if method == TOTP:
            await self._factors.verify_totp(step.login.user_id, code, actor)
        elif method == RECOVERY_CODES:
            await self._factors.use_recovery_code(step.login.user_id, code, actor)
        else:
            raise WrongCode
        return await self.finish(step, METHODS[method], actor, user_agent)

    async def finish(
        self, step: Step, added: tuple[str, ...], actor: Actor, user_agent: str | None
    ) -> tuple[Answer, str]:
        """The login made: its session's cookie secret and where the browser goes on. For every
        kind of second factor, once its own check passed (passkeys call it with ``hwk``/``swk``)."""
        if step.secret is not None:
            async with self._pool.acquire() as conn:
                if await self._repo.take(conn, digest(step.secret)) is None:
                    raise RequestExpired  # finished (or expired) in another tab meanwhile
        session, secret = await self._start(step.login, added, actor, user_agent)
        return await self._go_on(step.login, session), secret

    async def enrolled(self, step: Step, actor: Actor, user_agent: str | None) -> str:
        """After the login's TOTP enrolment was confirmed: the session starts now, the pending
        login waits (``carry_on``) while the page shows the new recovery codes."""
        if step.secret is None:
            raise RequestExpired
        session, secret = await self._start(step.login, METHODS[TOTP], actor, user_agent)
        async with self._pool.acquire() as conn:
            if not await self._repo.completed(conn, digest(step.secret), session.id):
                raise RequestExpired
        return secret

    async def carry_on(self, secret: str | None, session: BrowserSession | None) -> Answer:
        """Past the recovery codes: on with the login the enrolment finished, in the browser whose
        session it started."""
        async with self._pool.acquire() as conn:
            login = await self._repo.take(conn, digest(secret)) if secret else None
        if login is None or session is None or login.session_id != session.id:
            raise RequestExpired
        return await self._go_on(login, session)

    async def _start(
        self, login: PendingLogin, added: tuple[str, ...], actor: Actor, user_agent: str | None
    ) -> tuple[BrowserSession, str]:
        amr = with_methods(login.amr, *added)
        acr = ACR_TWO_FACTORS if AMR_MFA in amr else ACR_ONE_FACTOR
        session, secret = await self._sessions.start(
            login.user_id, amr=amr, acr=acr, source_ip=actor.source_ip, user_agent=user_agent,
            replacing=login.replacing, login={"amr": amr},
        )  # fmt: skip
        return session, secret

    async def _go_on(self, login: PendingLogin, session: BrowserSession) -> Answer:
        if login.request_id is not None:
            return await self._authorization.logged_in(str(login.request_id), session)
        if login.return_to is None:
            raise RequestExpired
        return ToPage(login.return_to)
