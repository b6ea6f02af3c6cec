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
from auth_service.clients.repository import ClientRecord
from auth_service.random_secrets import digest
from auth_service.revocations.service import Revoker
from auth_service.tokens.families import FamilyRepository, PresentedToken
from auth_service.tokens.presented import PresentedTokens, looks_like_jwt, same_client
from auth_service.tokens.sessions import SessionService
from shared.auth.claims import AccessClaims
from shared.db.pool import PostgresPool

__all__ = ["TokenRevocation", "revoke_access_token", "revoke_refresh_token"]


async def revoke_access_token(
    pool: PostgresPool, revoker: Revoker, audit: AuditTrail, claims: AccessClaims, actor: Actor
) -> None:
    """The one access token, with its ``token.revoke`` audit row, in one transaction."""
    async with pool.acquire() as conn, conn.transaction():
        await revoker.access_token(conn, claims.jti, claims.exp)
        await audit.record(
            "token.revoke",
            actor,
            target_type="access_token",
            target_id=claims.jti,
            details={"sub": claims.sub, "client_id": claims.client_id},
            conn=conn,
        )


async def revoke_refresh_token(
    pool: PostgresPool,
    sessions: SessionService,
    audit: AuditTrail,
    token: str,
    actor: Actor,
    *,
    permitted: Callable[[PresentedToken], None],
    reason: str,
) -> None:
    """The refresh token's whole session, with its ``token.revoke`` audit row, in one transaction;
    ``permitted`` raises when ``actor`` may not revoke it. An unknown token is a success."""
    async with pool.acquire() as conn:
        presented = await FamilyRepository().inspect(conn, digest(token))
        if presented is None:
            return
        permitted(presented)
        async with conn.transaction():
            await sessions.revoke(conn, presented.family_id, reason)
            await audit.record(
                "token.revoke",
                actor,
                target_type="session",
                target_id=str(presented.family_id),
                details={"user": str(presented.user_id), "client_id": presented.client_id},
                conn=conn,
            )


class TokenRevocation:
    __slots__ = ("_audit", "_pool", "_presented", "_revoker", "_sessions")

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

    async def revoke(self, form: dict[str, str], authorization: str | None, source_ip: str | None) -> None:
        client, token = await self._presented.client_and_token(form, authorization, confidential_only=False)
        actor = Actor(id=client.client_id, source_ip=source_ip)
        if looks_like_jwt(token):
            await self._revoke_access(token, client, actor)
        else:
            await self._revoke_refresh(token, client, actor)

    async def _revoke_access(self, token: str, client: ClientRecord, actor: Actor) -> None:
        claims = await self._presented.access_claims(token)
        if claims is None:
            return
        same_client(claims.client_id, client)
        await revoke_access_token(self._pool, self._revoker, self._audit, claims, actor)

    async def _revoke_refresh(self, token: str, client: ClientRecord, actor: Actor) -> None:
        await revoke_refresh_token(
            self._pool,
            self._sessions,
            self._audit,
            token,
            actor,
            permitted=lambda presented: same_client(presented.client_id, client),
            reason="revoked",
        )
