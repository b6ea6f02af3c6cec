"""Checking an email and password: the one place both the password grant and the login page do it.

Every defence lives here so neither door can be the weaker one: the throttling guard is asked
before any lookup or hashing (a refused attempt costs nothing and logs nobody in, even with the
right password) and told the outcome after; the password is NFKC-normalised; an unknown account
costs the same argon2 work as a known one (a dummy hash), and unknown account, wrong password and
disabled account raise the same ``BadCredentials``, so accounts cannot be enumerated by answer or
timing. The audit trail and the failure metric keep the real reason. A success re-hashes the
password when the argon2 parameters changed. Throttle refusals (``ThrottleRefusal``) pass through:
each door answers them in its own shape (RFC 6749 JSON, a 429 page).
"""

from __future__ import annotations

from collections.abc import Callable

from auth_service.audit.service import Actor, AuditTrail
from auth_service.passwords.hashing import PasswordHashing, normalise_password
from auth_service.tokens.login_guard import LoginGuard
from auth_service.users.emails import InvalidEmail, normalise_email
from auth_service.users.repository import UserRecord, UserRepository
from shared.db.pool import PostgresPool
from shared.errors import DomainError

__all__ = ["BAD_CREDENTIALS", "MAX_LOGIN_PASSWORD_CHARS", "BadCredentials", "CredentialCheck"]

# No account can hold a longer password (the policy's maximum is at most 1024), so a longer one
# is refused before any hashing: a megabyte "password" costs nothing.
MAX_LOGIN_PASSWORD_CHARS = 1024
BAD_CREDENTIALS = "The email or password is incorrect."


class BadCredentials(DomainError):
    """Unknown account, wrong password or disabled account: deliberately one error for all three."""

    status = 400
    slug = "bad-credentials"
    detail = BAD_CREDENTIALS


class CredentialCheck:
    __slots__ = ("_audit", "_guard", "_hashing", "_on_login_failure", "_pool", "_users")

    def __init__(
        self,
        pool: PostgresPool,
        hashing: PasswordHashing,
        audit: AuditTrail,
        guard: LoginGuard,
        on_login_failure: Callable[[str], None] | None = None,
    ) -> None:
        self._pool = pool
        self._hashing = hashing
        self._audit = audit
        self._guard = guard
        self._on_login_failure = on_login_failure
        self._users = UserRepository()

    async def verify(self, username: str, password: str, actor: Actor) -> UserRecord:
        """The active account these credentials open, or ``BadCredentials``. The success itself is
        audited by the caller, with the session it starts."""
        if len(password) > MAX_LOGIN_PASSWORD_CHARS:
            raise BadCredentials
        attempt = await self._guard.before_attempt(username, actor.source_ip)
        user = await self._find_user(username)
        password = normalise_password(password)
        matches = await self._hashing.verify(user.password_hash if user else None, password)
        succeeded = user is not None and matches and user.active
        await self._guard.after_attempt(attempt, succeeded=succeeded)
        if user is None or not succeeded:
            reason = "unknown_user" if user is None else ("wrong_password" if not matches else "disabled")
            await self._failed(reason, user, username, actor)
            raise BadCredentials
        if self._hashing.needs_rehash(user.password_hash):
            new_hash = await self._hashing.hash(password)
            async with self._pool.acquire() as conn:
                await self._users.rehash(conn, user.id, new_hash, user.password_hash)
        return user

    async def _failed(self, reason: str, user: UserRecord | None, username: str, actor: Actor) -> None:
        if self._on_login_failure is not None:
            self._on_login_failure(reason)
        await self._audit.record(
            "login",
            actor,
            outcome="failure",
            target_type="user",
            target_id=str(user.id) if user else None,
            details={"reason": reason, "username": username[:320]},
        )

    async def _find_user(self, username: str) -> UserRecord | None:
        try:
            email = normalise_email(username)
        except InvalidEmail:
            return None
        async with self._pool.acquire() as conn:
            return await self._users.by_email(conn, email)
