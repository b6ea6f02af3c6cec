"""Token revocation (RFC 7009) of access and refresh tokens.

Revoking an access token puts its ``jti`` on the Redis deny-list until ``exp``; revoking a refresh
token revokes its whole family (and denies that family's live access tokens). Unknown, invalid and
expired tokens succeed alike, as RFC 7009 asks. A client revokes its own tokens only, whatever
their audience: a token of another client is refused (``unauthorized_client``), resource server or
not (a resource server that wants a token gone asks its client, or an admin revokes the session).
"""

from __future__ import annotations

from auth_service.audit.service import Actor, AuditTrail
from auth_service.clients.repository import ClientRecord
from auth_service.random_secrets import digest
from auth_service.tokens.errors import TemporarilyUnavailable
from auth_service.tokens.families import FamilyRepository
from auth_service.tokens.presented import PresentedTokens, looks_like_jwt, same_client
from auth_service.tokens.revocations import AccessRevocations, DenyListUnavailable
from shared.db.pool import PostgresPool

__all__ = ["TokenRevocation"]

WRITE_UNAVAILABLE = "The revocation list cannot be written right now; retry shortly."


class TokenRevocation:
    __slots__ = ("_audit", "_families", "_pool", "_presented", "_revocations")

    def __init__(
        self,
        pool: PostgresPool,
        presented: PresentedTokens,
        revocations: AccessRevocations,
        audit: AuditTrail,
    ) -> None:
        self._pool = pool
        self._presented = presented
        self._revocations = revocations
        self._audit = audit
        self._families = FamilyRepository()

    async def revoke(self, form: dict[str, str], authorization: str | None, source_ip: str | None) -> None:
        client, token = await self._presented.client_and_token(form, authorization, confidential_only=False)
        actor = Actor(id=client.client_id, source_ip=source_ip)
        try:
            if looks_like_jwt(token):
                await self._revoke_access(token, client, actor)
            else:
                await self._revoke_refresh(token, client, actor)
        except DenyListUnavailable:
            raise TemporarilyUnavailable(WRITE_UNAVAILABLE) from None

    async def _revoke_access(self, token: str, client: ClientRecord, actor: Actor) -> None:
        claims = await self._presented.access_claims(token)
        if claims is None:
            return
        same_client(claims.client_id, client)
        await self._revocations.deny_one(claims.jti, claims.exp)
        await self._audit.record(
            "token.revoke",
            actor,
            target_type="access_token",
            target_id=claims.jti,
            details={"sub": claims.sub},
        )

    async def _revoke_refresh(self, token: str, client: ClientRecord, actor: Actor) -> None:
        async with self._pool.acquire() as conn:
            presented = await self._families.inspect(conn, digest(token))
            if presented is None:
                return
            same_client(presented.client_id, client)
            async with conn.transaction():
                revoked = await self._families.revoke(conn, presented.family_id, "revoked")
                await self._audit.record(
                    "token.revoke",
                    actor,
                    target_type="session",
                    target_id=str(presented.family_id),
                    details={"user": str(presented.user_id)},
                    conn=conn,
                )
        await self._revocations.deny(revoked)
