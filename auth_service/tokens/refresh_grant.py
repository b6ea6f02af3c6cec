"""The refresh token grant (RFC 6749 section 6) with rotation and reuse detection.

Every use rotates the token (one statement claims it atomically and issues its successor); using
an already-rotated token again means it leaked, so the whole family is revoked (OAuth 2.0
Security BCP section 4.14.2), its live access tokens deny-listed, and the reuse audited.
Scopes may narrow, never widen; roles and scopes are re-read, so role changes apply at refresh.
"""

from __future__ import annotations

from auth_service.audit.service import Actor, AuditTrail
from auth_service.clients.repository import ClientRecord
from auth_service.random_secrets import digest, new_secret
from auth_service.settings import TokenSettings
from auth_service.tokens.access import AccessTokenIssuer
from auth_service.tokens.errors import OAuthError, invalid_grant, invalid_request
from auth_service.tokens.families import FamilyRepository
from auth_service.tokens.responses import BEARER, TokenResponse
from auth_service.tokens.revocations import AccessRevocations
from auth_service.tokens.scopes import parse_scope
from shared.db.pool import Connection, PostgresPool

__all__ = ["RefreshTokenGrant"]


class RefreshTokenGrant:
    __slots__ = ("_audit", "_families", "_issuer", "_pool", "_revocations", "_settings")

    def __init__(
        self,
        pool: PostgresPool,
        settings: TokenSettings,
        issuer: AccessTokenIssuer,
        audit: AuditTrail,
        revocations: AccessRevocations,
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._issuer = issuer
        self._audit = audit
        self._revocations = revocations
        self._families = FamilyRepository()

    async def __call__(self, client: ClientRecord, form: dict[str, str], actor: Actor) -> TokenResponse:
        presented = form.get("refresh_token")
        if presented is None:
            raise invalid_request("The refresh_token parameter is missing.")
        requested = parse_scope(form.get("scope"))
        self._issuer.ensure_ready()
        jti, exp = self._issuer.new_jti()
        successor = new_secret()
        async with self._pool.acquire() as conn:
            rotated = await self._families.rotate(
                conn,
                presented=digest(presented),
                client_id=client.client_id,
                successor=digest(successor),
                token_ttl=self._settings.refresh_token_ttl,
                access_jti=jti,
                access_exp=exp,
                within_scopes=requested or [],
            )
            if rotated is None:
                await self._refused(conn, client, digest(presented), requested, actor)
        assert rotated is not None
        allowed = set(rotated.scopes).intersection(client.scopes)
        scopes = [s for s in (requested or rotated.scope.split()) if s in allowed]
        access = self._issuer.issue(
            sub=str(rotated.user_id),
            client_id=client.client_id,
            scopes=scopes,
            roles=rotated.roles,
            jti=jti,
            exp=exp,
            email=rotated.email,
            sid=str(rotated.family_id),
        )
        return TokenResponse(
            access_token=access.token,
            token_type=BEARER,
            expires_in=access.expires_in,
            scope=" ".join(scopes),
            refresh_token=successor,
        )

    async def _refused(
        self,
        conn: Connection,
        client: ClientRecord,
        presented: bytes,
        requested: list[str] | None,
        actor: Actor,
    ) -> None:
        """Say why a refresh token did not rotate; a reused one revokes its whole family."""
        token = await self._families.inspect(conn, presented)
        if token is None or token.client_id != client.client_id:
            raise invalid_grant("The refresh token is invalid, expired or revoked.")
        if token.used and not token.revoked:
            async with conn.transaction():
                revoked = await self._families.revoke(conn, token.family_id, "reuse")
                await self._audit.record(
                    "refresh.reuse",
                    actor,
                    outcome="failure",
                    target_type="session",
                    target_id=str(token.family_id),
                    details={"user": str(token.user_id)},
                    conn=conn,
                )
            await self._revocations.deny(revoked)
            raise invalid_grant("The refresh token was already used; the session is revoked.")
        if token.active and requested and not set(requested) <= set(token.scope.split()):
            raise OAuthError("invalid_scope", "The scope exceeds what the refresh token was granted.")
        raise invalid_grant("The refresh token is invalid, expired or revoked.")
