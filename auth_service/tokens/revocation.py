"""Token revocation (RFC 7009) of access and refresh tokens.

Revoking an access token records its ``jti``; revoking a refresh token ends its whole family and
every access token issued from it (its ``sid``). Either is one transaction with its audit row:
the revocation is in PostgreSQL when the answer says so, and the publisher pushes it to every
verifier from there, so Redis being away neither fails nor half-does it. Unknown, invalid and
expired tokens succeed alike, as RFC 7009 asks. A client revokes its own tokens only, whatever
their audience: a token of another client is refused (``unauthorized_client``), resource server or
not (a resource server that wants a token gone asks its client, or an admin revokes it).
"""

from __future__ import annotations

from collections.abc import Callable

from auth_service.audit.service import Actor, AuditTrail
from auth_service.random_secrets import digest
from auth_service.revocations.service import Revoker
from auth_service.tokens.families import FamilyRepository, PresentedToken
from auth_service.tokens.presented import PresentedTokens, looks_like_jwt, same_client
from auth_service.tokens.sessions import SessionService
from shared.auth.claims import AccessClaims
from shared.db.pool import PostgresPool

__all__ = ["TokenRevocation"]


class TokenRevocation:
    __slots__ = ("_audit", "_families", "_pool", "_presented", "_revoker", "_sessions")

    def __init__(
        self,
        pool: PostgresPool,
        presented: PresentedTokens,
        revoker: Revoker,
        sessions: SessionService,
        audit: AuditTrail,
    ) -> None:
        self._pool = pool
        self._presented = presented
        self._revoker = revoker
        self._sessions = sessions
        self._audit = audit
        self._families = FamilyRepository()

    async def revoke(self, form: dict[str, str], authorization: str | None, source_ip: str | None) -> None:
        """RFC 7009: the calling client's own tokens only."""
        client, token = await self._presented.client_and_token(form, authorization, confidential_only=False)
        await self.revoke_token(
            token,
            Actor(id=client.client_id, source_ip=source_ip),
            access=lambda claims: same_client(claims.client_id, client),
            refresh=lambda presented: same_client(presented.client_id, client),
            reason="revoked",
        )

    async def revoke_token(
        self,
        token: str,
        actor: Actor,
        *,
        access: Callable[[AccessClaims], None],
        refresh: Callable[[PresentedToken], None],
        reason: str,
    ) -> None:
        """An access token by its ``jti``, a refresh token with its whole session, each with its
        ``token.revoke`` audit row in one transaction. ``access`` / ``refresh`` raise when ``actor``
        may not revoke that token; an unknown, invalid or expired token is a success."""
        if looks_like_jwt(token):
            claims = await self._presented.access_claims(token)
            if claims is not None:
                access(claims)
                await self._revoke_access(claims, actor)
            return
        async with self._pool.acquire() as conn:
            presented = await self._families.inspect(conn, digest(token))
            if presented is None:
                return
            refresh(presented)
            async with conn.transaction():
                await self._sessions.revoke(conn, presented.family_id, reason)
                await self._audit.record(
                    "token.revoke",
                    actor,
                    target_type="session",
                    target_id=str(presented.family_id),
                    details={"user": str(presented.user_id), "client_id": presented.client_id},
                    conn=conn,
                )

    async def _revoke_access(self, claims: AccessClaims, actor: Actor) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await self._revoker.access_token(conn, claims.jti, claims.exp)
            await self._audit.record(
                "token.revoke",
                actor,
                target_type="access_token",
                target_id=claims.jti,
                details={"sub": claims.sub, "client_id": claims.client_id},
                conn=conn,
            )
