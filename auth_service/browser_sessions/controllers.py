"""Browser (SSO) sessions in the API: an admin lists and ends a user's, a person lists their own.

A browser session is the login behind the apps' sessions (refresh-token families): ending one ends
every family it created and tells the apps with a back-channel logout URI (``BrowserSessions.end``
audits and notifies). The bodies are built here from the service's record, field by field by name,
so that record can grow without changing the API. Unknown ids are a 404, never a silent success.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Router, delete, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from auth_service.actors import RequestActors
from auth_service.browser_sessions.service import BrowserSession, BrowserSessions
from auth_service.errors import NotAUser, NotFound
from auth_service.openapi_problems import ADMIN_ERRORS, problems
from auth_service.users.service import UserService
from shared.auth.litestar import current_claims

__all__ = [
    "BrowserSessionInfo",
    "BrowserSessionNotFound",
    "admin_browser_sessions_router",
    "my_browser_sessions_handlers",
    "token_user",
]

ADMIN_TAGS = ["Admin: users"]
END_REASON = "admin"
"""``revoked_reason`` of the families an admin's ending of a browser session revokes."""


class BrowserSessionNotFound(NotFound):
    subject = "live browser session"


class BrowserSessionInfo(msgspec.Struct, frozen=True):
    """A live browser session: when its login happened (``auth_time``, Unix seconds, as ID tokens
    carry it), how (``amr``, ``acr``), when it was last used and when it ends at the latest."""

    id: UUID
    user_id: UUID
    auth_time: int
    amr: list[str]
    acr: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    source_ip: str | None
    user_agent: str | None


def _bodies(records: list[BrowserSession]) -> list[BrowserSessionInfo]:
    return [msgspec.convert(record, BrowserSessionInfo, from_attributes=True) for record in records]


def token_user(request: Request[Any, Any, Any]) -> UUID:
    """The person the bearer token speaks for; a client's own token (``sub`` = client id) has none."""
    try:
        return UUID(current_claims(request).sub)
    except ValueError:
        raise NotAUser() from None


def admin_browser_sessions_router(
    sessions: BrowserSessions, users: UserService, actors: RequestActors
) -> Router:
    """``/users/{id}/browser-sessions`` and ``/browser-sessions/{id}``, mounted in the admin
    router's ``admin:users`` area (which checks the scope)."""

    @get(
        "/users/{user_id:uuid}/browser-sessions",
        operation_id="adminListBrowserSessions",
        responses=ADMIN_ERRORS,
        summary="A user's live browser (SSO) sessions, newest first",
    )
    async def list_for_user(user_id: FromPath[UUID]) -> list[BrowserSessionInfo]:
        await users.get(user_id)  # UserNotFound: an unknown user is a 404, not an empty list
        return _bodies(await sessions.for_user(user_id))

    @delete(
        "/browser-sessions/{session_id:uuid}",
        operation_id="adminEndBrowserSession",
        responses=ADMIN_ERRORS,
        summary="End a browser session: its apps' sessions are revoked, their back-channels told",
    )
    async def end_session(request: Request[Any, Any, Any], session_id: FromPath[UUID]) -> None:
        if await sessions.end(session_id, END_REASON, actors.of(request)) is None:
            raise BrowserSessionNotFound()

    return Router("/", route_handlers=[list_for_user, end_session], tags=ADMIN_TAGS)


def my_browser_sessions_handlers(sessions: BrowserSessions) -> list[HTTPRouteHandler]:
    """``GET /browser-sessions`` under ``/api/1/users/me``: the token's person's live sessions."""

    @get(
        "/browser-sessions",
        operation_id="listMyBrowserSessions",
        summary="Your live browser (SSO) sessions, newest first",
        responses=problems(401, 403, 503),
    )
    async def list_mine(request: Request[Any, Any, Any]) -> list[BrowserSessionInfo]:
        return _bodies(await sessions.for_user(token_user(request)))

    return [list_mine]
