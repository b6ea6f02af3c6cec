"""What each kind of "stop this now" revokes, recorded in the caller's transaction.

Every method takes the connection of the transaction that makes the change, so the revocation
commits with it or not at all; the publisher pushes committed revocations to the verifiers.
Revocations that reach every token of a session, subject, client, role or key are kept as long as
the longest access-token lifetime of any resource (``longest_ttl``), the most such a token can live.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from uuid import UUID

from auth_service.revocations.repository import RevocationRepository
from shared.db.pool import Connection

__all__ = ["KEY_REVOCATION_TTL", "Revoker"]

KEY_REVOCATION_TTL = 30 * 86400
"""Seconds a revoked key stays refused: well past any JWKS cache, stale-if-error (24 h) included."""


class Revoker:
    __slots__ = ("_revocations", "longest_ttl")

    def __init__(self, longest_ttl: Callable[[], int]) -> None:
        self.longest_ttl = longest_ttl
        """Seconds the longest-lived access token may live (the publisher trims the stream by it)."""
        self._revocations = RevocationRepository()

    async def access_token(self, conn: Connection, jti: str, exp: int) -> None:
        await self._revocations.record_until(conn, "jti", jti, exp)

    async def sessions(self, conn: Connection, family_ids: Iterable[UUID]) -> None:
        """Every access token issued from these refresh-token families (their ``sid``)."""
        await self._revocations.record_for(conn, "sid", [str(f) for f in family_ids], self.longest_ttl())

    async def subject(self, conn: Connection, sub: str) -> None:
        """Every access token of ``sub`` issued until now (user disabled, deleted, password reset,
        roles taken away); tokens issued after it pass."""
        await self._revocations.record_for(conn, "sub", [sub], self.longest_ttl())

    async def client(self, conn: Connection, client_id: str) -> None:
        await self._revocations.record_for(conn, "client", [client_id], self.longest_ttl())

    async def role(self, conn: Connection, role: str) -> None:
        """Every access token carrying ``role`` issued until now (its scopes shrank, or it is gone)."""
        await self._revocations.record_for(conn, "role", [role], self.longest_ttl())

    async def key(self, conn: Connection, kid: str) -> None:
        """Every token signed by ``kid``; verifiers also drop the key itself.

        Kept for ``KEY_REVOCATION_TTL``, not the token lifetime: whoever holds a compromised key can
        sign new tokens with any ``exp``, and a stale copy of the JWKS (a verifier's stale-if-error
        window, a CDN) may still list the key long after we stopped publishing it. A verifier that
        starts within that time relearns the revocation from the stream."""
        await self._revocations.record_for(conn, "kid", [kid], max(KEY_REVOCATION_TTL, self.longest_ttl()))
