"""The refresh token grant (RFC 6749 section 6) with rotation and reuse detection.

Every use rotates the token (one statement claims it atomically and issues its successor); using
an already-rotated token again means it leaked, so the whole family is revoked (OAuth 2.0
Security BCP section 4.14.2), its live access tokens deny-listed, and the reuse audited.
Scopes may narrow, never widen; roles and scopes are re-read, so role changes apply at refresh.
Without ``resource`` the new token is for the family's resources; with it, for any the client may
ask for (RFC 8707 section 2.2), its scopes the grant's that resource owns.
"""

from __future__ import annotations

import msgspec

from auth_service.audit.service import Actor, AuditTrail
from auth_service.clients.repository import ClientRecord
from auth_service.random_secrets import digest, new_secret
from auth_service.settings import TokenSettings
from auth_service.tokens.access import AccessTokenIssuer
from auth_service.tokens.audience import Audience, AudienceResolver, invalid_target, parse_resources
from auth_service.tokens.errors import OAuthError, invalid_grant, invalid_request
from auth_service.tokens.families import FamilyRepository
from auth_service.tokens.responses import BEARER, TokenResponse
from auth_service.tokens.revocations import AccessRevocations
from auth_service.tokens.scopes import parse_scope
from shared.db.pool import Connection, PostgresPool

__all__ = ["RefreshTokenGrant"]


class _FamilyTarget(msgspec.Struct, frozen=True):
    """A refresh without ``resource``: what the family's audience must satisfy, and the longest
    lifetime its token may get (recorded before the audience is read)."""

    owners: list[str]
    allowed: list[str]
    longest_ttl: int


class RefreshTokenGrant:
    __slots__ = ("_audiences", "_audit", "_families", "_issuer", "_pool", "_revocations", "_settings")

    def __init__(
        self,
        pool: PostgresPool,
        settings: TokenSettings,
        issuer: AccessTokenIssuer,
        audiences: AudienceResolver,
        audit: AuditTrail,
        revocations: AccessRevocations,
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._issuer = issuer
        self._audiences = audiences
        self._audit = audit
        self._revocations = revocations
        self._families = FamilyRepository()

    async def __call__(self, client: ClientRecord, form: dict[str, str], actor: Actor) -> TokenResponse:
        presented = form.get("refresh_token")
        if presented is None:
            raise invalid_request("The refresh_token parameter is missing.")
        requested = parse_scope(form.get("scope"))
        target = self._target(client, parse_resources(form.get("resource")), requested)
        self._issuer.ensure_ready()
        jti, exp = self._issuer.new_jti(target.ttl if isinstance(target, Audience) else target.longest_ttl)
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
                within_resources=[] if isinstance(target, Audience) else target.owners,
                allowed_resources=None if isinstance(target, Audience) else target.allowed,
            )
            if rotated is None:
                await self._refused(conn, client, digest(presented), requested, target, actor)
        assert rotated is not None
        if isinstance(target, Audience):
            audience = target
        else:  # the family's audience, known now; its lifetime is within the bound recorded
            audience = self._audiences.of(rotated.resources)
            exp = exp - target.longest_ttl + audience.ttl
        allowed = set(rotated.scopes).intersection(client.scopes)
        scopes = [s for s in audience.token_scopes(rotated.scope.split(), requested) if s in allowed]
        access = self._issuer.issue(
            sub=str(rotated.user_id),
            client_id=client.client_id,
            aud=audience.aud,
            scopes=scopes,
            roles=rotated.roles,
            jti=jti,
            exp=exp,
            ttl=audience.ttl,
            email=rotated.email,
            sid=str(rotated.family_id),
        )
        return TokenResponse(
            access_token=access.token,
            token_type=BEARER,
            expires_in=access.expires_in,
            scope=TokenResponse.scope_of(scopes),
            refresh_token=successor,
        )

    def _target(
        self, client: ClientRecord, resources: list[str] | None, requested: list[str] | None
    ) -> Audience | _FamilyTarget:
        """With ``resource``: that audience (any the client may ask for, RFC 8707 section 2.2),
        checked before the token rotates. Without: the family's, which the rotation itself checks
        (still allowed to the client, owning every requested scope)."""
        if resources is not None:
            audience = self._audiences.named(client, resources)
            audience.token_scopes(requested or [], requested)  # a scope it does not own: invalid_scope
            return audience
        return _FamilyTarget(
            owners=sorted(self._audiences.owners(requested or [])),
            allowed=self._audiences.allowed(client),
            longest_ttl=self._audiences.longest_ttl(),
        )

    async def _refused(
        self,
        conn: Connection,
        client: ClientRecord,
        presented: bytes,
        requested: list[str] | None,
        target: Audience | _FamilyTarget,
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
        if token.active and isinstance(target, _FamilyTarget):
            if not set(target.owners) <= set(token.resources):
                raise OAuthError(
                    "invalid_scope", "The scope is not for this session's resources; name a resource."
                )
            if not set(token.resources) <= set(target.allowed):
                raise invalid_target(
                    "This client may no longer ask for this session's resources; name a resource."
                )
        raise invalid_grant("The refresh token is invalid, expired or revoked.")
