"""The refresh token grant (RFC 6749 section 6) with rotation, reuse detection and a reuse grace.

Every use rotates the token (one statement claims it atomically and issues its successor); using
an already-rotated token again means it leaked, so the whole family is revoked (OAuth 2.0
Security BCP section 4.14.2), its access tokens with it (a ``sid`` revocation, in the same
transaction), and the reuse audited. Except within the reuse grace (``AUTH_REFRESH_REUSE_GRACE``,
like Okta's grace period and Auth0's reuse interval): the same client presenting the token again
shortly after its first use, before the successor itself was used, is a retry or a second tab, not
a thief, and gets the same successor again (kept sealed under the key-encryption key, bound to the
presented token's digest) with a new access token. Time is the grant's clock, passed to the SQL
that decides, so tests move it instead of sleeping.
Scopes may narrow, never widen; roles and scopes are re-read, so role changes apply at refresh
(identity scopes need no role: they stay as long as the grant has them). How the person logged in
(``auth_time``, ``amr``, ``acr``) is the family's first login's, never the refresh's: a refresh is
no new authentication, so it neither satisfies a step-up nor resets a ``max_age``.
Without ``resource`` the new token is for the family's resources; with it, for any the client may
ask for (RFC 8707 section 2.2), its scopes the grant's that resource owns.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

import msgspec

from auth_service.audit.service import Actor, AuditTrail
from auth_service.clients.repository import ClientRecord
from auth_service.keys.sealing import KeyEncryptionKeyError
from auth_service.oidc.scopes import IDENTITY_SCOPES
from auth_service.random_secrets import digest, new_secret
from auth_service.revocations.service import Revoker
from auth_service.settings import TokenSettings
from auth_service.tokens.access import AccessTokenIssuer
from auth_service.tokens.audience import Audience, AudienceResolver, invalid_target, parse_resources
from auth_service.tokens.errors import OAuthError, invalid_grant, invalid_request
from auth_service.tokens.families import FamilyRepository, PresentedToken, Rotated, SessionBounds
from auth_service.tokens.responses import BEARER, TokenResponse
from auth_service.tokens.scopes import parse_scope
from auth_service.tokens.successors import SuccessorRepository
from shared.db.pool import Connection, PostgresPool

__all__ = ["RefreshTokenGrant", "SuccessorSeal"]

log = logging.getLogger(__name__)

_SEALED_FOR = b"refresh-successor:"
"""Associated data prefix: a sealed successor opens only next to the digest it was rotated from."""


class SuccessorSeal(Protocol):
    """What seals successors at rest: the key-encryption key (``keys/sealing.py``)."""

    def seal(self, plaintext: bytes, associated: bytes) -> bytes: ...

    def open(self, sealed: bytes, associated: bytes) -> bytes: ...


class _FamilyTarget(msgspec.Struct, frozen=True):
    """A refresh without ``resource``: what the family's audience must satisfy, and the longest
    lifetime its token may get (recorded before the audience is read)."""

    owners: list[str]
    allowed: list[str]
    longest_ttl: int


def _bounds(requested: list[str] | None, target: Audience | _FamilyTarget) -> SessionBounds:
    """A named audience was checked before the rotation; the family's is checked by it."""
    if isinstance(target, Audience):
        return SessionBounds(scopes=requested or [], resources=[], allowed=None)
    return SessionBounds(scopes=requested or [], resources=target.owners, allowed=target.allowed)


class _Granted(msgspec.Struct, frozen=True):
    session: Rotated
    refresh_token: str


class RefreshTokenGrant:
    __slots__ = (
        "_audiences",
        "_audit",
        "_clock",
        "_families",
        "_issuer",
        "_pool",
        "_revoker",
        "_seal",
        "_settings",
        "_successors",
    )

    def __init__(
        self,
        pool: PostgresPool,
        settings: TokenSettings,
        issuer: AccessTokenIssuer,
        audiences: AudienceResolver,
        audit: AuditTrail,
        revoker: Revoker,
        seal: SuccessorSeal,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._issuer = issuer
        self._audiences = audiences
        self._audit = audit
        self._revoker = revoker
        self._seal = seal
        self._clock = clock
        self._families = FamilyRepository()
        self._successors = SuccessorRepository()

    async def __call__(self, client: ClientRecord, form: dict[str, str], actor: Actor) -> TokenResponse:
        presented = form.get("refresh_token")
        if presented is None:
            raise invalid_request("The refresh_token parameter is missing.")
        requested = parse_scope(form.get("scope"))
        target = self._target(client, parse_resources(form.get("resource")), requested)
        self._issuer.ensure_ready()
        jti, exp = self._issuer.new_jti(target.ttl if isinstance(target, Audience) else target.longest_ttl)
        presented_digest = digest(presented)
        async with self._pool.acquire() as conn:
            granted = await self._rotate(conn, client, presented_digest, requested, target, jti, exp)
            if granted is None:
                granted = await self._replay(conn, client, presented_digest, requested, target)
            if granted is None:
                await self._refused(conn, client, presented_digest, requested, target, actor)
        assert granted is not None
        return self._respond(client, granted, requested, target, jti, exp)

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

    async def _rotate(
        self,
        conn: Connection,
        client: ClientRecord,
        presented: bytes,
        requested: list[str] | None,
        target: Audience | _FamilyTarget,
        jti: str,
        exp: int,
    ) -> _Granted | None:
        successor = new_secret()
        sealed = None  # kept only while a repeat may ask for it again
        if self._settings.refresh_reuse_grace:
            sealed = self._seal.seal(successor.encode(), _SEALED_FOR + presented)
        rotated = await self._families.rotate(
            conn,
            presented=presented,
            client_id=client.client_id,
            successor=digest(successor),
            successor_sealed=sealed,
            now=self._clock(),
            token_ttl=self._settings.refresh_token_ttl,
            access_jti=jti,
            access_exp=exp,
            bounds=_bounds(requested, target),
        )
        return None if rotated is None else _Granted(session=rotated, refresh_token=successor)

    async def _replay(
        self,
        conn: Connection,
        client: ClientRecord,
        presented: bytes,
        requested: list[str] | None,
        target: Audience | _FamilyTarget,
    ) -> _Granted | None:
        """The successor again, if ``presented`` is a repeat within the grace (else ``None``)."""
        grace = self._settings.refresh_reuse_grace
        if grace == 0:
            return None
        replayed = await self._successors.replay_successor(
            conn,
            presented=presented,
            client_id=client.client_id,
            now=self._clock(),
            grace=grace,
            bounds=_bounds(requested, target),
        )
        if replayed is None:
            return None
        try:
            successor = self._seal.open(replayed.successor_sealed, _SEALED_FOR + presented).decode()
        except KeyEncryptionKeyError:
            log.warning("a sealed refresh-token successor does not open (KEK changed?); refused")
            raise invalid_grant("The refresh token is invalid, expired or revoked.") from None
        return _Granted(session=replayed.rotated, refresh_token=successor)

    def _respond(
        self,
        client: ClientRecord,
        granted: _Granted,
        requested: list[str] | None,
        target: Audience | _FamilyTarget,
        jti: str,
        exp: int,
    ) -> TokenResponse:
        session = granted.session
        if isinstance(target, Audience):
            audience = target
        else:  # the family's audience, known now; its lifetime is within the bound recorded
            audience = self._audiences.of(session.resources)
            exp = exp - target.longest_ttl + audience.ttl
        allowed = set(session.scopes).intersection(client.scopes) | IDENTITY_SCOPES
        scopes = [s for s in audience.token_scopes(session.scope.split(), requested) if s in allowed]
        access = self._issuer.issue(
            sub=str(session.user_id),
            client_id=client.client_id,
            aud=audience.aud,
            scopes=scopes,
            roles=session.roles,
            jti=jti,
            exp=exp,
            ttl=audience.ttl,
            email=session.email,
            sid=str(session.family_id),
            login=session.login,
        )
        return TokenResponse(
            access_token=access.token,
            token_type=BEARER,
            expires_in=access.expires_in,
            scope=TokenResponse.scope_of(scopes),
            refresh_token=granted.refresh_token,
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
        """Say why a refresh token did not rotate; a reused one (not a repeat within the grace)
        revokes its whole family."""
        token = await self._families.inspect(conn, presented)
        if token is None or token.client_id != client.client_id:
            raise invalid_grant("The refresh token is invalid, expired or revoked.")
        repeat = token.used and await self._within_grace(conn, presented)
        if token.used and not token.revoked and not repeat:
            await self._revoke_reused(conn, token, actor)
            raise invalid_grant("The refresh token was already used; the session is revoked.")
        live = token.active or (repeat and token.user_active and not (token.expired or token.revoked))
        if live and requested and not set(requested) <= set(token.scope.split()):
            raise OAuthError("invalid_scope", "The scope exceeds what the refresh token was granted.")
        if live and isinstance(target, _FamilyTarget):
            if not set(target.owners) <= set(token.resources):
                raise OAuthError(
                    "invalid_scope", "The scope is not for this session's resources; name a resource."
                )
            if not set(token.resources) <= set(target.allowed):
                raise invalid_target(
                    "This client may no longer ask for this session's resources; name a resource."
                )
        raise invalid_grant("The refresh token is invalid, expired or revoked.")

    async def _within_grace(self, conn: Connection, presented: bytes) -> bool:
        grace = self._settings.refresh_reuse_grace
        return grace > 0 and await self._successors.successor_unused_within(
            conn, presented, now=self._clock(), grace=grace
        )

    async def _revoke_reused(self, conn: Connection, token: PresentedToken, actor: Actor) -> None:
        """The family, its access tokens (``sid``) and the audit row commit together or not at all."""
        async with conn.transaction():
            revoked = await self._families.revoke(conn, token.family_id, "reuse")
            await self._revoker.sessions(conn, revoked)
            await self._audit.record(
                "refresh.reuse",
                actor,
                outcome="failure",
                target_type="session",
                target_id=str(token.family_id),
                details={"user": str(token.user_id)},
                conn=conn,
            )
