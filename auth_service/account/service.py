"""What a signed-in person does on their account page, on top of the services that own each thing.

The password change is the self-service API's (throttled per person like ``SelfService``'s, then
``UserService.change_password``: the policy, the current password checked, the apps' sessions
ended, a notice mailed); here it also ends the
person's other browser sessions, since whoever else was signed in may be why it changed. Sessions
and consents are the browser sessions' and consents' own (only the person's: another person's id
is simply not found). Changing second factors needs the person proven again right now, with the
password or a code of the TOTP app (``prove``): a browser left open is not enough to remove the
factor that guards the account, nor to mint new recovery codes. Setting TOTP up asks the password
too, so a session in the wrong hands cannot put its own factor on the account; once confirmed, the
session is renewed at level 2 (it has just seen both factors).
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from auth_service.audit.service import Actor
from auth_service.browser_sessions.service import BrowserSession, BrowserSessions
from auth_service.consents.service import Consent, Consents
from auth_service.errors import UserNotFound, WrongPassword
from auth_service.factors.enrolment import Enrolments, TotpEnrolment
from auth_service.factors.service import RECOVERY_CODES, TOTP, FactorInfo, SecondFactors
from auth_service.oidc.assurance import ACR_TWO_FACTORS, AMR_MFA, AMR_OTP, with_methods
from auth_service.passwords.hashing import PasswordHashing, normalise_password
from auth_service.tokens.credentials import MAX_LOGIN_PASSWORD_CHARS
from auth_service.users.repository import UserRepository
from auth_service.users.self_service import AttemptLimiter
from auth_service.users.service import UserService
from shared.db.pool import PostgresPool

__all__ = ["AccountOverview", "AccountService"]

END_REASON = "user"
"""``ended_reason`` of a browser session the person ended from the account page."""


class AccountOverview(msgspec.Struct, frozen=True):
    email: str
    factors: list[FactorInfo]
    totp: FactorInfo | None
    recovery_codes: FactorInfo | None
    sessions: list[BrowserSession]
    consents: list[Consent]


class AccountService:
    __slots__ = ("_accounts", "_consents", "_enrolments", "_factors", "_hashing", "_limit", "_pool",
                 "_sessions", "_users")  # fmt: skip

    def __init__(
        self,
        pool: PostgresPool,
        accounts: UserService,
        sessions: BrowserSessions,
        consents: Consents,
        factors: SecondFactors,
        enrolments: Enrolments,
        hashing: PasswordHashing,
        password_attempts: AttemptLimiter,
    ) -> None:
        self._pool = pool
        self._accounts, self._sessions, self._consents = accounts, sessions, consents
        self._factors, self._enrolments = factors, enrolments
        self._hashing, self._limit = hashing, password_attempts
        self._users = UserRepository()

    async def overview(self, user_id: UUID) -> AccountOverview:
        async with self._pool.acquire() as conn:
            user = await self._users.by_id(conn, user_id)
        if user is None:
            raise UserNotFound()
        factors = await self._factors.listed(user_id)
        by_kind = {factor.kind: factor for factor in factors}
        return AccountOverview(
            email=user.email, factors=factors, totp=by_kind.get(TOTP),
            recovery_codes=by_kind.get(RECOVERY_CODES), sessions=await self._sessions.for_user(user_id),
            consents=await self._consents.of_user(user_id),
        )  # fmt: skip

    async def signed_in(self, session: BrowserSession) -> bool:
        """Whether the session may open the account page: not when it lacks a second factor now
        due (one set up since, or a role that requires one): the login asks for it first."""
        return await self._factors.due(session.user_id, acr=session.acr, asked=None) is None

    async def change_password(self, session: BrowserSession, current: str, new: str, actor: Actor) -> None:
        """Raises ``WrongPassword``, ``WeakPassword`` or a throttle refusal."""
        await self._limit.hit(str(session.user_id))
        await self._accounts.change_password(session.user_id, current, new, actor, None)
        for other in await self._sessions.for_user(session.user_id):
            if other.id != session.id:
                await self._sessions.end(other.id, "password_changed", actor)

    async def prove(self, user_id: UUID, *, password: str, code: str, actor: Actor) -> None:
        """The person, again: a code of their TOTP app (checked as at login: throttled, once per
        step) or else their password (throttled like a password change). Raises ``WrongCode``,
        ``WrongPassword`` or a throttle refusal."""
        if code.strip():
            await self._factors.verify_totp(user_id, code, actor)
            return
        await self._limit.hit(str(user_id))
        async with self._pool.acquire() as conn:
            user = await self._users.by_id(conn, user_id)
        if user is None or len(password) > MAX_LOGIN_PASSWORD_CHARS:
            raise WrongPassword()
        if not await self._hashing.verify(user.password_hash, normalise_password(password)):
            raise WrongPassword()

    async def begin_totp(self, user_id: UUID) -> TotpEnrolment:
        return await self._enrolments.begin_totp(user_id, (await self.overview(user_id)).email)

    async def confirm_totp(
        self, session: BrowserSession, *, password: str, code: str, actor: Actor, user_agent: str | None
    ) -> tuple[list[str] | None, str]:
        """The new recovery codes (``None`` if the person had a set) and the renewed session's
        cookie secret. Raises ``WrongPassword``, ``WrongCode``, ``NoEnrolment``."""
        await self.prove(session.user_id, password=password, code="", actor=actor)
        codes = await self._enrolments.confirm_totp(session.user_id, code, actor)
        _, secret = await self._sessions.start(
            session.user_id, amr=with_methods(session.amr, AMR_OTP, AMR_MFA), acr=ACR_TWO_FACTORS,
            source_ip=actor.source_ip, user_agent=user_agent, replacing=session.id,
        )  # fmt: skip
        return codes, secret

    async def remove_totp(self, user_id: UUID, *, password: str, code: str, actor: Actor) -> None:
        await self.prove(user_id, password=password, code=code, actor=actor)
        await self._enrolments.remove_totp(user_id, actor)

    async def regenerate_recovery_codes(
        self, user_id: UUID, *, password: str, code: str, actor: Actor
    ) -> list[str]:
        await self.prove(user_id, password=password, code=code, actor=actor)
        return await self._enrolments.regenerate_recovery_codes(user_id, actor)

    async def end_session(self, user_id: UUID, session_id: UUID, actor: Actor) -> bool:
        """Only one of the person's own; ``False`` when it is not (or already ended)."""
        session = await self._sessions.get(session_id)
        if session is None or session.user_id != user_id:
            return False
        return await self._sessions.end(session_id, END_REASON, actor) is not None

    async def revoke_consent(self, user_id: UUID, client_id: str, actor: Actor) -> bool:
        return await self._consents.revoke(user_id, client_id, actor)
