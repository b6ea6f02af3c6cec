"""The ``pending_logins`` table (asyncpg only): a login whose second step is still due.

The browser's cookie holds a random secret; only its SHA-256 is stored, so a database dump
resumes no login. A row lives minutes (``AUTH_SECOND_STEP_TTL``), is read only while unexpired,
and is taken (deleted) by the step that finishes it, so a second tab or a replayed cookie finds
nothing. A person has at most a few at a time: starting one drops that person's expired ones.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

__all__ = ["PendingLogin", "PendingLoginRepository"]

_COLUMNS = "user_id, amr, request_id, return_to, replacing, session_id"
_DROP_EXPIRED = "DELETE FROM pending_logins WHERE user_id = $1 AND expires_at <= now()"
_INSERT = """
INSERT INTO pending_logins (digest, user_id, amr, request_id, return_to, replacing, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
"""
_GET = f"SELECT {_COLUMNS} FROM pending_logins WHERE digest = $1 AND expires_at > now()"  # noqa: S608
_COMPLETED = """
UPDATE pending_logins SET session_id = $2 WHERE digest = $1 AND session_id IS NULL AND expires_at > now()
"""
_TAKE = f"DELETE FROM pending_logins WHERE digest = $1 AND expires_at > now() RETURNING {_COLUMNS}"  # noqa: S608


class PendingLogin(msgspec.Struct, frozen=True):
    """What the password step proved, for the second step to finish.

    ``amr``: the methods so far (``pwd``); ``request_id`` / ``return_to``: where the login goes on
    (an authorization request, or a page of ours); ``replacing``: the browser's session before;
    ``session_id``: set once the session started while the page still shows the recovery codes."""

    user_id: UUID
    amr: list[str]
    request_id: UUID | None
    return_to: str | None
    replacing: UUID | None
    session_id: UUID | None


class PendingLoginRepository:
    __slots__ = ()

    async def create(
        self, conn: asyncpg.Connection, digest: bytes, login: PendingLogin, ttl: int
    ) -> PendingLogin | None:
        """``None`` when the request or the replaced session vanished meanwhile (foreign keys)."""
        await conn.execute(_DROP_EXPIRED, login.user_id)
        try:
            await conn.execute(
                _INSERT, digest, login.user_id, login.amr, login.request_id, login.return_to,
                login.replacing, ttl,
            )  # fmt: skip
        except asyncpg.ForeignKeyViolationError:
            return None
        return login

    async def get(self, conn: asyncpg.Connection, digest: bytes) -> PendingLogin | None:
        row = await conn.fetchrow(_GET, digest)
        return None if row is None else PendingLogin(**dict(row))

    async def completed(self, conn: asyncpg.Connection, digest: bytes, session_id: UUID) -> bool:
        return await conn.execute(_COMPLETED, digest, session_id) == "UPDATE 1"

    async def take(self, conn: asyncpg.Connection, digest: bytes) -> PendingLogin | None:
        row = await conn.fetchrow(_TAKE, digest)
        return None if row is None else PendingLogin(**dict(row))
