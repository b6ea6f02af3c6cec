"""The three grants of ``POST /oauth/token``: password, refresh_token, client_credentials.

Each grant is a method that takes the authenticated client and the form and returns the token
response or raises ``OAuthError``. Checks run in RFC 6749's order: grant type known, client
authenticated, grant allowed for the client, then the grant's own parameters.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import msgspec

from auth_service.audit.service import Actor, AuditTrail
from auth_service.clients.authentication import ClientAuthenticator
from auth_service.clients.repository import ClientRecord
from auth_service.passwords.hashing import PasswordHashing, normalise_password
from auth_service.random_secrets import digest, new_secret
from auth_service.settings import AuthSettings
from auth_service.tokens.access import AccessTokenIssuer
from auth_service.tokens.errors import OAuthError, invalid_grant, invalid_request
from auth_service.tokens.families import FamilyRepository
from auth_service.tokens.login_guard import LoginGuard, NoLoginGuard
from auth_service.tokens.revocations import AccessRevocations
from auth_service.tokens.scopes import grant_scopes, parse_scope
from auth_service.users.emails import InvalidEmail, normalise_email
from auth_service.users.repository import UserRecord, UserRepository
from shared.db.pool import PostgresPool

__all__ = ["TokenResponse", "TokenService"]

# No account can hold a longer password (the policy's maximum is at most 1024), so a longer one
# is refused before any hashing: a megabyte "password" costs nothing.
MAX_LOGIN_PASSWORD_CHARS = 1024
BAD_CREDENTIALS = "The email or password is incorrect."
BEARER = "Bearer"


class TokenResponse(msgspec.Struct, omit_defaults=True):
    access_token: str
    token_type: str
    expires_in: int
    scope: str
    refresh_token: str | None = None


Grant = Callable[[ClientRecord, dict[str, str], Actor], Awaitable[TokenResponse]]


class TokenService:
    __slots__ = (
        "_audit",
        "_clients",
        "_families",
        "_grants",
        "_guard",
        "_hashing",
        "_issuer",
        "_on_login_failure",
        "_pool",
        "_revocations",
        "_settings",
        "_users",
    )

    def __init__(
        self,
        pool: PostgresPool,
        settings: AuthSettings,
        hashing: PasswordHashing,
        issuer: AccessTokenIssuer,
        audit: AuditTrail,
        revocations: AccessRevocations,
        *,
        login_guard: LoginGuard | None = None,
        on_login_failure: Callable[[str], None] | None = None,
    ) -> None:
        self._guard = login_guard or NoLoginGuard()
        self._on_login_failure = on_login_failure
        self._pool = pool
        self._settings = settings
        self._hashing = hashing
        self._issuer = issuer
        self._audit = audit
        self._revocations = revocations
        self._clients = ClientAuthenticator()
        self._users = UserRepository()
        self._families = FamilyRepository()
        self._grants: dict[str, Grant] = {
            "password": self._password,
            "refresh_token": self._refresh,
            "client_credentials": self._client_credentials,
        }

    async def token(
        self, form: dict[str, str], authorization: str | None, source_ip: str | None
    ) -> TokenResponse:
        grant_type = form.get("grant_type")
        if grant_type is None:
            raise invalid_request("The grant_type parameter is missing.")
        grant = self._grants.get(grant_type)
        if grant is None:
            raise OAuthError("unsupported_grant_type", f"The grant type {grant_type!r} is not supported.")
        async with self._pool.acquire() as conn:
            client = await self._clients.authenticate(conn, authorization, form)
        if grant_type not in client.grant_types:
            raise OAuthError("unauthorized_client", f"This client may not use the {grant_type} grant.")
        return await grant(client, form, Actor(id=client.client_id, source_ip=source_ip))

    # ------------------------------------------------------------------ password
    async def _password(self, client: ClientRecord, form: dict[str, str], actor: Actor) -> TokenResponse:
        username, password = form.get("username"), form.get("password")
        if username is None or password is None:
            raise invalid_request("The username and password parameters are required.")
        requested = parse_scope(form.get("scope"))
        if len(password) > MAX_LOGIN_PASSWORD_CHARS:
            raise invalid_grant(BAD_CREDENTIALS)
        await self._guard.before_attempt(username, actor.source_ip)
        user = await self._find_user(username)
        password = normalise_password(password)
        matches = await self._hashing.verify(user.password_hash if user else None, password)
        succeeded = user is not None and matches and user.active
        await self._guard.after_attempt(username, actor.source_ip, succeeded=succeeded)
        if user is None or not succeeded:
            reason = "unknown_user" if user is None else ("wrong_password" if not matches else "disabled")
            if self._on_login_failure is not None:
                self._on_login_failure(reason)
            await self._audit.record(
                "login",
                actor,
                outcome="failure",
                target_type="user",
                target_id=str(user.id) if user else None,
                details={"reason": reason, "username": username[:320]},
            )
            raise invalid_grant(BAD_CREDENTIALS)
        scopes = grant_scopes(requested, user.scopes, client.scopes)
        response = await self._start_family(client, user, scopes, actor)
        if self._hashing.needs_rehash(user.password_hash):
            new_hash = await self._hashing.hash(password)
            async with self._pool.acquire() as conn:
                await self._users.rehash(conn, user.id, new_hash, user.password_hash)
        return response

    async def _find_user(self, username: str) -> UserRecord | None:
        try:
            email = normalise_email(username)
        except InvalidEmail:
            return None
        async with self._pool.acquire() as conn:
            return await self._users.by_email(conn, email)

    async def _start_family(
        self, client: ClientRecord, user: UserRecord, scopes: list[str], actor: Actor
    ) -> TokenResponse:
        jti, exp = self._issuer.new_jti()
        family_id = uuid.uuid4()
        access = self._issuer.issue(
            sub=str(user.id),
            client_id=client.client_id,
            scopes=scopes,
            roles=user.roles,
            jti=jti,
            exp=exp,
            email=user.email,
            sid=str(family_id),
        )
        refresh = new_secret()
        async with self._pool.acquire() as conn, conn.transaction():
            await self._families.create(
                conn,
                family_id=family_id,
                user_id=user.id,
                client_id=client.client_id,
                scope=" ".join(scopes),
                family_ttl=self._settings.refresh_family_ttl,
                source_ip=actor.source_ip,
                token_digest=digest(refresh),
                token_ttl=self._settings.refresh_token_ttl,
                access_jti=jti,
                access_exp=exp,
            )
            await self._users.record_login(conn, user.id)
            await self._audit.record(
                "login",
                actor,
                target_type="user",
                target_id=str(user.id),
                details={"session": str(family_id)},
                conn=conn,
            )
        return TokenResponse(
            access_token=access.token,
            token_type=BEARER,
            expires_in=access.expires_in,
            scope=" ".join(scopes),
            refresh_token=refresh,
        )

    # ------------------------------------------------------------------ refresh_token
    async def _refresh(self, client: ClientRecord, form: dict[str, str], actor: Actor) -> TokenResponse:
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
        conn: asyncpg.Connection,
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

    # ------------------------------------------------------------------ client_credentials
    async def _client_credentials(
        self, client: ClientRecord, form: dict[str, str], actor: Actor
    ) -> TokenResponse:
        if not client.confidential:
            raise OAuthError("unauthorized_client", "Only confidential clients may use client_credentials.")
        scopes = grant_scopes(parse_scope(form.get("scope")), client.scopes)
        jti, exp = self._issuer.new_jti()
        access = self._issuer.issue(
            sub=client.client_id, client_id=client.client_id, scopes=scopes, roles=[], jti=jti, exp=exp
        )
        return TokenResponse(
            access_token=access.token, token_type=BEARER, expires_in=access.expires_in, scope=" ".join(scopes)
        )
