"""The ``authorization_requests`` table (asyncpg only): a validated request between
``/oauth/authorize`` and its code, carried through the login and consent pages by its id alone.

Nothing the browser sends later can change what was validated: the pages name the request, the
parameters come from here. A request is taken (deleted) when it is answered, so an id replayed
after the code was issued finds nothing.
"""

from __future__ import annotations

from uuid import UUID

import msgspec
from asyncpg import Connection

from auth_service.authorization.parameters import AuthorizationParameters

__all__ = ["AuthorizationRequestRepository", "StoredRequest"]

_INSERT = """
INSERT INTO authorization_requests (client_id, parameters, expires_at, logged_in_session)
VALUES ($1, $2::jsonb, now() + make_interval(secs => $3), $4) RETURNING id
"""
_GET = """
SELECT parameters::text AS parameters, logged_in_session FROM authorization_requests
WHERE id = $1 AND expires_at > now()
"""
_LOGGED_IN = """
UPDATE authorization_requests SET logged_in_session = $2 WHERE id = $1 AND expires_at > now()
RETURNING parameters::text AS parameters, logged_in_session
"""
_TAKE = "DELETE FROM authorization_requests WHERE id = $1 AND expires_at > now() RETURNING id"
_USE_PUSHED = """
WITH pushed AS (
    DELETE FROM authorization_requests
    WHERE id = $1 AND client_id = $2 AND expires_at > now() AND parameters @> '{"pushed": true}'
    RETURNING client_id, parameters
)
INSERT INTO authorization_requests (client_id, parameters, expires_at)
SELECT client_id, jsonb_set(parameters, '{pushed}', 'false'), now() + make_interval(secs => $3)
FROM pushed RETURNING id, parameters::text AS parameters
"""


class StoredRequest(msgspec.Struct, frozen=True):
    id: UUID | None
    """``None`` until stored: a request answered at once (single sign-on) is never written."""
    parameters: AuthorizationParameters
    logged_in_session: UUID | None
    """The browser session a login for this very request started (``prompt=login``, ``max_age``)."""


class AuthorizationRequestRepository:
    __slots__ = ()

    async def create(
        self,
        conn: Connection,
        parameters: AuthorizationParameters,
        ttl: int,
        logged_in_session: UUID | None = None,
    ) -> UUID:
        encoded = msgspec.json.encode(parameters).decode()
        request_id: UUID = await conn.fetchval(_INSERT, parameters.client_id, encoded, ttl, logged_in_session)
        return request_id

    async def get(self, conn: Connection, request_id: UUID) -> StoredRequest | None:
        row = await conn.fetchrow(_GET, request_id)
        if row is None:
            return None
        parameters = msgspec.json.decode(row["parameters"], type=AuthorizationParameters)
        return StoredRequest(request_id, parameters, row["logged_in_session"])

    async def logged_in(self, conn: Connection, request_id: UUID, session_id: UUID) -> StoredRequest | None:
        """Records the login and reads the request back in the same statement; ``None`` once expired."""
        row = await conn.fetchrow(_LOGGED_IN, request_id, session_id)
        if row is None:
            return None
        parameters = msgspec.json.decode(row["parameters"], type=AuthorizationParameters)
        return StoredRequest(request_id, parameters, row["logged_in_session"])

    async def use_pushed(
        self, conn: Connection, request_id: UUID, client_id: str, ttl: int
    ) -> StoredRequest | None:
        """A pushed request of ``client_id`` becomes an ordinary one under a new id, in one
        statement: a ``request_uri`` is used once, even by two browsers at the same instant.
        ``None``: unknown, another client's, expired or already used."""
        row = await conn.fetchrow(_USE_PUSHED, request_id, client_id, ttl)
        if row is None:
            return None
        parameters = msgspec.json.decode(row["parameters"], type=AuthorizationParameters)
        return StoredRequest(row["id"], parameters, None)

    async def take(self, conn: Connection, request_id: UUID) -> bool:
        """Deletes it; ``False`` when it was gone already (answered twice at once: one wins)."""
        return await conn.fetchval(_TAKE, request_id) is not None
