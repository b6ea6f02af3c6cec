"""The authorization requests a page carries by id: read, stored, marked logged in, taken.

A request is stored only when a page after the login must carry it (consent, the second step, a
factor to set up) or when it was pushed (RFC 9126); the login form itself carries the request as it
was sent (``AuthorizationService.carried``). Each read comes back with its client, and a request
whose client is gone is as expired as one past ``AUTH_AUTHORIZATION_REQUEST_TTL``.
"""

from __future__ import annotations

from uuid import UUID

from auth_service.authorization.errors import RequestExpired, UntrustedRequest
from auth_service.authorization.outcomes import Pending, request_key
from auth_service.authorization.parameters import Query
from auth_service.authorization.pushed import pushed_id
from auth_service.authorization.repository import AuthorizationRequestRepository, StoredRequest
from auth_service.clients.directory import ClientDirectory
from shared.db.pool import PostgresPool

__all__ = ["StoredRequests"]


class StoredRequests:
    __slots__ = ("_clients", "_pool", "_repo", "_ttl")

    def __init__(self, pool: PostgresPool, clients: ClientDirectory, *, ttl: int) -> None:
        """``ttl``: seconds a stored request lives (``AUTH_AUTHORIZATION_REQUEST_TTL``)."""
        self._pool = pool
        self._clients = clients
        self._ttl = ttl
        self._repo = AuthorizationRequestRepository()

    async def pending(self, request_id: str) -> Pending:
        """The stored request and its client, or ``RequestExpired``."""
        key = request_key(request_id)
        async with self._pool.acquire() as conn:
            stored = await self._repo.get(conn, key)
        return await self._with_client(stored)

    async def use_pushed(self, query: Query) -> Pending:
        """RFC 9126 section 4: ``client_id`` and ``request_uri`` alone (every other parameter is
        ignored); the pushed request of that very client, used once. Anything else is an error
        page: without the pushed request, no redirect URI can be trusted."""
        ids, uris = query.get("client_id") or (), query.get("request_uri") or ()
        request_id = pushed_id(uris[0]) if len(uris) == 1 else None
        if len(ids) != 1 or request_id is None:
            raise UntrustedRequest
        async with self._pool.acquire() as conn:
            stored = await self._repo.use_pushed(conn, request_id, ids[0], self._ttl)
        return await self._with_client(stored)  # now an ordinary request of that client

    async def logged_in(self, key: UUID, session_id: UUID) -> Pending:
        """Records that a login for the request started ``session_id``, and reads it back."""
        async with self._pool.acquire() as conn:
            stored = await self._repo.logged_in(conn, key, session_id)
        return await self._with_client(stored)

    async def store(self, stored: StoredRequest) -> UUID:
        """The request's id, storing it first if it has none (the only time it is written)."""
        if stored.id is not None:
            return stored.id
        async with self._pool.acquire() as conn:
            return await self._repo.create(conn, stored.parameters, self._ttl, stored.logged_in_session)

    async def take(self, stored: StoredRequest) -> None:
        """Deletes a stored request answered without a code (a refusal at the client)."""
        if stored.id is not None:
            async with self._pool.acquire() as conn:
                await self._repo.take(conn, stored.id)

    async def _with_client(self, stored: StoredRequest | None) -> Pending:
        client = await self._clients.get(stored.parameters.client_id) if stored else None
        if stored is None or stored.parameters.pushed or client is None:
            raise RequestExpired
        return Pending(stored, client)
