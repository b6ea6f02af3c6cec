"""What a person may do on their own (``/api/1/users``): register, read and re-key their account.

Self-registration is off unless ``AUTH_REGISTRATION_ENABLED``, and then only ever gives the
``viewer`` role (the body cannot name roles); attempts count per source address (an IPv6 /64), and
only once registration is known to be open, so a closed server answers 403 and never 429.
Password changes count per user, so a stolen access token cannot guess the current password at
speed. A limiter's refusal (``ThrottleRefusal``, a domain error) is the answer: 429, or 503 when
the limits cannot be checked.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from auth_service.audit.service import Actor
from auth_service.errors import NotAUser, RegistrationDisabled
from auth_service.throttling.client_address import address_bucket
from auth_service.users.schemas import PasswordChange, Registration, User, UserCreate
from auth_service.users.service import UserService

__all__ = ["AttemptLimiter", "SelfService"]

SELF_REGISTERED_ROLES = ("viewer",)


class AttemptLimiter(Protocol):
    """A per-subject limit (``throttling.window.SlidingWindowLimiter``)."""

    async def hit(self, subject: str) -> None:
        """Count one attempt; raise ``ThrottleRefusal`` to refuse it."""


def _user_id(subject: str) -> UUID:
    """The account a token speaks for; a client's token (``sub`` is its client id) has none."""
    try:
        return UUID(subject)
    except ValueError:
        raise NotAUser() from None


class SelfService:
    __slots__ = ("_password_changes", "_registration_enabled", "_registrations", "_users")

    def __init__(
        self,
        users: UserService,
        *,
        registration_enabled: bool,
        registrations: AttemptLimiter,
        password_changes: AttemptLimiter,
    ) -> None:
        self._users = users
        self._registration_enabled = registration_enabled
        self._registrations = registrations
        self._password_changes = password_changes

    async def register(self, data: Registration, source_ip: str | None) -> User:
        if not self._registration_enabled:
            raise RegistrationDisabled()
        await self._registrations.hit(address_bucket(source_ip))
        return await self._users.register(
            UserCreate(email=data.email, password=data.password, roles=list(SELF_REGISTERED_ROLES)),
            Actor(id=None, source_ip=source_ip),
        )

    async def me(self, subject: str) -> User:
        return await self._users.get(_user_id(subject))

    async def change_password(
        self, subject: str, data: PasswordChange, actor: Actor, keep_session: UUID | None
    ) -> None:
        """Every other session of the user ends; ``keep_session`` (the caller's) goes on."""
        user_id = _user_id(subject)
        await self._password_changes.hit(str(user_id))
        await self._users.change_password(
            user_id, data.current_password, data.new_password, actor, keep_session
        )
