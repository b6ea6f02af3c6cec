"""A user's sessions as the admin API sees them: listed and revoked, only when they exist.

Sessions are the tokens context's refresh-token families (``SessionService``). The admin API adds
its rules on top: a user's sessions are listed only for a user that exists, and revoking an
unknown session is a 404 rather than a silent success; the API's ``Family`` body is built here
from the tokens context's record, field by field by name, so that record can grow freely.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from auth_service.audit.service import Actor
from auth_service.errors import SessionNotFound
from auth_service.tokens.sessions import SessionService
from auth_service.users.schemas import Family
from auth_service.users.service import UserService

__all__ = ["UserSessions"]


class UserSessions:
    __slots__ = ("_sessions", "_users")

    def __init__(self, users: UserService, sessions: SessionService) -> None:
        self._users = users
        self._sessions = sessions

    async def of_user(self, user_id: UUID) -> list[Family]:
        """The user's live sessions, newest first; ``UserNotFound`` for an unknown user."""
        await self._users.get(user_id)
        records = await self._sessions.for_user(user_id)
        return [msgspec.convert(record, Family, from_attributes=True) for record in records]

    async def revoke(self, session_id: UUID, actor: Actor) -> None:
        """End the session and revoke its access tokens (``sid``); ``SessionNotFound`` when there is none."""
        if await self._sessions.get(session_id) is None:
            raise SessionNotFound()
        await self._sessions.revoke_by_admin(session_id, actor)
