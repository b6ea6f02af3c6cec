"""Browser sessions: started by a login, found by the cookie's secret, ended by logout or an admin.

A login always starts a new session with a new id and secret (no session fixation: a secret
planted in a browser before the login is worth nothing after it). A session that replaces the
browser's previous one of the same person takes over the apps' sessions (refresh-token families)
the old one created, so re-authenticating (``prompt=login``, ``max_age``) logs no app out; another
person's old session is ended in full. Ending a session revokes the families it created (their
access tokens' ``sid``, in the same transaction) and, after the commit, tells every ``on_ended``
hook (the back-channel logout sender), whose failures are logged, never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from typing import Any
from uuid import UUID, uuid4

import msgspec

from auth_service.audit.service import Actor, AuditTrail
from auth_service.browser_sessions.repository import BrowserSession, BrowserSessionRepository, StartEvent
from auth_service.browser_settings import LoginSettings
from auth_service.random_secrets import digest, new_secret
from auth_service.tokens.sessions import SessionService
from shared.db.pool import Connection, PostgresPool

__all__ = ["BrowserSession", "BrowserSessions", "EndedHook", "EndedSession"]

log = logging.getLogger(__name__)
MAX_USER_AGENT_CHARS = 500


class EndedSession(msgspec.Struct, frozen=True):
    """A session that just ended: ``client_ids`` are the clients whose families it created."""

    id: UUID
    user_id: UUID
    client_ids: list[str]


EndedHook = Callable[[EndedSession], Awaitable[None]]


class BrowserSessions:
    __slots__ = ("_audit", "_hooks", "_pool", "_repo", "_sessions", "_settings")

    def __init__(
        self, pool: PostgresPool, settings: LoginSettings, sessions: SessionService, audit: AuditTrail
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._sessions = sessions
        self._audit = audit
        self._repo = BrowserSessionRepository()
        self._hooks: list[EndedHook] = []

    def on_ended(self, hook: EndedHook) -> None:
        self._hooks.append(hook)

    async def current(self, secret: str | None) -> BrowserSession | None:
        """The live session the cookie's secret opens: not ended, not past its absolute lifetime,
        used within the idle lifetime, its user active."""
        if not secret:
            return None
        async with self._pool.acquire() as conn:
            return await self._repo.current(conn, digest(secret), self._settings.session_idle_ttl)

    async def get(self, session_id: UUID) -> BrowserSession | None:
        """A live session by id (``None`` once ended or expired)."""
        async with self._pool.acquire() as conn:
            return await self._repo.get(conn, session_id, self._settings.session_idle_ttl)

    async def for_user(self, user_id: UUID) -> list[BrowserSession]:
        """The user's live sessions, newest first."""
        async with self._pool.acquire() as conn:
            return await self._repo.for_user(conn, user_id, self._settings.session_idle_ttl)

    async def start(
        self,
        user_id: UUID,
        *,
        amr: list[str],
        acr: str,
        source_ip: str | None,
        user_agent: str | None,
        replacing: UUID | None,
        login: dict[str, Any] | None = None,
    ) -> tuple[BrowserSession, str]:
        """A new session and the secret for its cookie; ``replacing`` is the browser's previous one.
        ``login``: the details of the ``login`` audit event recorded with it (the session's id added).
        Without a session to replace, it is one statement: a login's one write."""
        secret, session_id = new_secret(), uuid4()
        person = str(user_id)
        replaced = str(replacing) if replacing else None
        events = [StartEvent("browser_session.start", person, "browser_session", str(session_id),
                             {"amr": amr, "acr": acr, "replaced": replaced})]  # fmt: skip
        if login is not None:
            events.append(
                StartEvent("login", person, "user", person, {"browser_session": str(session_id), **login})
            )
        agent = user_agent[:MAX_USER_AGENT_CHARS] if user_agent else None
        ttl = self._settings.session_max_ttl
        ended: EndedSession | None = None
        # A session that replaces none is one statement, atomic on its own: no transaction.
        async with self._pool.acquire() as conn, conn.transaction() if replacing else nullcontext():
            session = await self._repo.start(
                conn, session_id, digest=digest(secret), user_id=user_id, amr=amr, acr=acr, max_ttl=ttl,
                source_ip=source_ip, user_agent=agent, events=events,
            )  # fmt: skip
            if replacing is not None:
                ended = await self._replace(conn, replacing, session)
        if ended is not None:
            await self._notify(ended)
        return session, secret

    async def end(self, session_id: UUID, reason: str, actor: Actor) -> EndedSession | None:
        """Ends the session and revokes its families; ``None`` if unknown or ended already."""
        async with self._pool.acquire() as conn, conn.transaction():
            ended = await self._end(conn, session_id, reason)
            if ended is None:
                return None
            await self._audit.record(
                "browser_session.end",
                actor,
                target_type="browser_session",
                target_id=str(session_id),
                details={"reason": reason, "user": str(ended.user_id), "clients": ended.client_ids},
                conn=conn,
            )
        await self._notify(ended)
        return ended

    async def _replace(self, conn: Connection, old: UUID, new: BrowserSession) -> EndedSession | None:
        """Ends ``old``: the same person's families move to ``new``; another person's are revoked."""
        user_id = await self._repo.end(conn, old, "replaced")
        if user_id is None:
            return None
        if user_id == new.user_id:
            await self._repo.move_families(conn, old, new.id)
            return None
        return await self._revoke_families(conn, old, user_id, "replaced")

    async def _end(self, conn: Connection, session_id: UUID, reason: str) -> EndedSession | None:
        user_id = await self._repo.end(conn, session_id, reason)
        if user_id is None:
            return None
        return await self._revoke_families(conn, session_id, user_id, reason)

    async def _revoke_families(
        self, conn: Connection, session_id: UUID, user_id: UUID, reason: str
    ) -> EndedSession:
        families = await self._repo.families(conn, session_id)
        for family in families:
            if family.live:
                await self._sessions.revoke(conn, family.id, reason)
        client_ids = sorted({family.client_id for family in families})
        return EndedSession(id=session_id, user_id=user_id, client_ids=client_ids)

    async def _notify(self, ended: EndedSession) -> None:
        for hook in self._hooks:
            try:
                await hook(ended)
            except Exception:
                log.exception("browser session %s: an on_ended hook failed", ended.id)
