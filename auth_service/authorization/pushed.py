"""Pushed Authorization Requests (RFC 9126): the request validated over the back channel first.

``POST /oauth/par`` takes the parameters of an authorization request as a form, with the client
authenticated exactly as at the token endpoint (``ClientAuthenticator``: a public client by its
``client_id``, a confidential one with its registered method), and validates them exactly as
``/oauth/authorize`` does (``parameters.py``). Since nothing here is a browser, every refusal is
RFC 6749 JSON (400, or 401 ``invalid_client``), never a redirect: a redirect URI not registered
is ``invalid_request`` like any other bad parameter. The validated request is stored as a pushed
row of ``authorization_requests``; the client sends the browser to ``/oauth/authorize`` with
``client_id`` and the ``request_uri`` alone, which uses it once (``AuthorizationService``).

A pushed request lives ``PUSHED_REQUEST_TTL`` (90 s, RFC 9126 section 2.2's example, shorter than
``AUTH_AUTHORIZATION_REQUEST_TTL``): the client uses it at once, and a short life bounds how long a
leaked ``request_uri`` is worth anything. Once used, it is an ordinary request with that setting's
lifetime, for the person's login and consent.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from auth_service.authorization.errors import AuthorizationError, UntrustedRequest
from auth_service.authorization.parameters import trusted_reply, validate
from auth_service.authorization.repository import AuthorizationRequestRepository
from auth_service.clients.authentication import ClientAuthenticator
from auth_service.tokens.audience import AudienceResolver
from auth_service.tokens.errors import OAuthError, invalid_request
from shared.db.pool import PostgresPool

__all__ = ["PUSHED_REQUEST_TTL", "REQUEST_URI_PREFIX", "PushedRequest", "PushedRequests", "pushed_id"]

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
PUSHED_REQUEST_TTL = 90
"""Seconds a pushed request may wait for its use at ``/oauth/authorize`` (``expires_in``)."""


class PushedRequest(msgspec.Struct, frozen=True):
    """RFC 9126 section 2.2's answer (201)."""

    request_uri: str
    expires_in: int


def pushed_id(request_uri: str) -> UUID | None:
    """The stored request a ``request_uri`` of ours names; ``None`` for anything else."""
    if not request_uri.startswith(REQUEST_URI_PREFIX):
        return None
    try:
        return UUID(request_uri.removeprefix(REQUEST_URI_PREFIX))
    except ValueError:
        return None


class PushedRequests:
    __slots__ = ("_audiences", "_clients", "_pool", "_repo")

    def __init__(self, pool: PostgresPool, clients: ClientAuthenticator, audiences: AudienceResolver) -> None:
        self._pool = pool
        self._clients = clients
        self._audiences = audiences
        self._repo = AuthorizationRequestRepository()

    async def push(self, form: dict[str, str], authorization: str | None) -> PushedRequest:
        """RFC 9126 section 2.1: authenticate, validate as an authorization request, store."""
        client = await self._clients.authenticate(authorization, form)
        if "authorization_code" not in client.grant_types:  # before its redirect URIs: it has none
            raise OAuthError("unauthorized_client", "This client may not use the code flow.")
        if "request_uri" in form:
            raise invalid_request("A pushed request cannot carry a request_uri.")
        query = {name: [value] for name, value in form.items()}
        query["client_id"] = [client.client_id]  # Basic authentication may leave it out of the body
        if "resource" in form:
            query["resource"] = form["resource"].split()
        try:
            parameters = validate(query, client, trusted_reply(query, client), self._audiences)
        except UntrustedRequest:
            raise invalid_request("redirect_uri is missing or not registered for this client.") from None
        except AuthorizationError as exc:
            raise OAuthError(exc.error, exc.description) from None
        pushed = msgspec.structs.replace(parameters, pushed=True)
        async with self._pool.acquire() as conn:
            request_id = await self._repo.create(conn, pushed, PUSHED_REQUEST_TTL)
        return PushedRequest(f"{REQUEST_URI_PREFIX}{request_id}", PUSHED_REQUEST_TTL)
