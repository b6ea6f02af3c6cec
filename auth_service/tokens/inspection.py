"""Revocation (RFC 7009) and introspection (RFC 7662) of access and refresh tokens.

Access tokens are JWTs (three dot-separated segments); refresh tokens are opaque, so the token's
shape says which it is and ``token_type_hint`` is not needed. Revoking an access token puts its
``jti`` on the Redis deny-list until ``exp``; revoking a refresh token revokes its whole family
(and denies that family's live access tokens). Introspection honours both.
"""

from __future__ import annotations

from typing import Any

from auth_service.audit.service import Actor, AuditTrail
from auth_service.clients.authentication import ClientAuthenticator
from auth_service.clients.directory import ClientDirectory
from auth_service.clients.repository import ClientRecord
from auth_service.random_secrets import digest
from auth_service.throttling.window import SlidingWindowLimiter
from auth_service.tokens.errors import OAuthError, invalid_request
from auth_service.tokens.families import FamilyRepository
from auth_service.tokens.revocations import AccessRevocations
from shared.auth.claims import AccessClaims
from shared.auth.verifier import InvalidToken, TokenVerifier
from shared.db.pool import PostgresPool

__all__ = ["TokenInspection"]

INACTIVE: dict[str, Any] = {"active": False}


def _looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


class TokenInspection:
    __slots__ = ("_audit", "_clients", "_families", "_limiter", "_pool", "_revocations", "_verifier")

    def __init__(
        self,
        pool: PostgresPool,
        verifier: TokenVerifier,
        revocations: AccessRevocations,
        audit: AuditTrail,
        clients: ClientDirectory,
        *,
        introspection_limiter: SlidingWindowLimiter | None = None,
    ) -> None:
        """``introspection_limiter`` counts introspections per authenticated client (raises
        ``ThrottleRefusal`` over its limit); a client is known only after it authenticated, so
        nobody can spend another client's budget by naming it."""
        self._limiter = introspection_limiter
        self._pool = pool
        self._verifier = verifier
        self._revocations = revocations
        self._audit = audit
        self._clients = ClientAuthenticator(clients)
        self._families = FamilyRepository()

    async def _client_and_token(
        self, form: dict[str, str], authorization: str | None, *, confidential_only: bool
    ) -> tuple[ClientRecord, str]:
        client = await self._clients.authenticate(authorization, form, confidential_only=confidential_only)
        token = form.get("token")
        if token is None:
            raise invalid_request("The token parameter is missing.")
        return client, token

    async def _access_claims(self, token: str) -> AccessClaims | None:
        try:
            return await self._verifier.verify(token)
        except InvalidToken:
            return None

    # ------------------------------------------------------------------ RFC 7009
    async def revoke(self, form: dict[str, str], authorization: str | None, source_ip: str | None) -> None:
        """Succeeds (200) for unknown, invalid and expired tokens alike, as RFC 7009 asks."""
        client, token = await self._client_and_token(form, authorization, confidential_only=False)
        actor = Actor(id=client.client_id, source_ip=source_ip)
        if _looks_like_jwt(token):
            claims = await self._access_claims(token)
            if claims is None:
                return
            self._same_client(claims.client_id, client)
            await self._revocations.deny_one(claims.jti, claims.exp)
            await self._audit.record(
                "token.revoke",
                actor,
                target_type="access_token",
                target_id=claims.jti,
                details={"sub": claims.sub},
            )
            return
        async with self._pool.acquire() as conn:
            presented = await self._families.inspect(conn, digest(token))
            if presented is None:
                return
            self._same_client(presented.client_id, client)
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

    @staticmethod
    def _same_client(owner: str, client: ClientRecord) -> None:
        if owner != client.client_id:
            raise OAuthError("unauthorized_client", "This token was not issued to this client.")

    # ------------------------------------------------------------------ RFC 7662
    async def introspect(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        client, token = await self._client_and_token(form, authorization, confidential_only=True)
        if self._limiter is not None:
            await self._limiter.hit(client.client_id)
        if _looks_like_jwt(token):
            claims = await self._access_claims(token)
            if claims is None or await self._revocations.is_denied(claims.jti):
                return INACTIVE
            answer: dict[str, Any] = {
                "active": True,
                "token_type": "Bearer",
                "scope": claims.scope,
                "client_id": claims.client_id,
                "sub": claims.sub,
                "aud": claims.aud,
                "iss": claims.iss,
                "exp": claims.exp,
                "iat": claims.iat,
                "jti": claims.jti,
                "roles": claims.roles,
            }
            if claims.nbf is not None:
                answer["nbf"] = claims.nbf
            if claims.email is not None:
                answer["username"] = claims.email
            return answer
        async with self._pool.acquire() as conn:
            presented = await self._families.inspect(conn, digest(token))
        if presented is None or not presented.active:
            return INACTIVE
        return {
            "active": True,
            "token_type": "refresh_token",
            "scope": presented.scope,
            "client_id": presented.client_id,
            "sub": str(presented.user_id),
            "username": presented.email,
            "exp": presented.expires_at,
            "iat": presented.issued_at,
        }
