"""The resource owner password credentials grant (RFC 6749 section 4.3), for first-party apps.

Unknown account, wrong password and disabled account answer the same ``invalid_grant`` after the
same argon2 work (a dummy hash stands in for a missing account), so accounts cannot be enumerated;
the audit trail and the failure metric keep the real reason. A success starts a refresh-token
family (the session: its ``scope`` is the grant, its ``resources`` the first token's audience) and
re-hashes the password when the argon2 parameters changed. The refresh token is answered only to
a client allowed the ``refresh_token`` grant; the family exists either way, so the session can be
listed and ended like any other.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from auth_service.audit.service import Actor, AuditTrail
from auth_service.clients.repository import ClientRecord
from auth_service.passwords.hashing import PasswordHashing, normalise_password
from auth_service.random_secrets import digest, new_secret
from auth_service.settings import TokenSettings
from auth_service.tokens.access import AccessTokenIssuer
from auth_service.tokens.audience import Audience, AudienceResolver, parse_resources
from auth_service.tokens.errors import invalid_grant, invalid_request
from auth_service.tokens.families import FamilyRepository
from auth_service.tokens.login_guard import LoginGuard
from auth_service.tokens.responses import BEARER, TokenResponse
from auth_service.tokens.scopes import grant_scopes, parse_scope
from auth_service.users.emails import InvalidEmail, normalise_email
from auth_service.users.repository import UserRecord, UserRepository
from shared.db.pool import PostgresPool

__all__ = ["PasswordGrant"]

# No account can hold a longer password (the policy's maximum is at most 1024), so a longer one
# is refused before any hashing: a megabyte "password" costs nothing.
MAX_LOGIN_PASSWORD_CHARS = 1024
BAD_CREDENTIALS = "The email or password is incorrect."


class PasswordGrant:
    __slots__ = (
        "_audiences",
        "_audit",
        "_families",
        "_guard",
        "_hashing",
        "_issuer",
        "_on_login_failure",
        "_pool",
        "_settings",
        "_users",
    )

    def __init__(
        self,
        pool: PostgresPool,
        settings: TokenSettings,
        hashing: PasswordHashing,
        issuer: AccessTokenIssuer,
        audiences: AudienceResolver,
        audit: AuditTrail,
        guard: LoginGuard,
        on_login_failure: Callable[[str], None] | None,
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._hashing = hashing
        self._issuer = issuer
        self._audiences = audiences
        self._audit = audit
        self._guard = guard
        self._on_login_failure = on_login_failure
        self._users = UserRepository()
        self._families = FamilyRepository()

    async def __call__(self, client: ClientRecord, form: dict[str, str], actor: Actor) -> TokenResponse:
        username, password = form.get("username"), form.get("password")
        if username is None or password is None:
            raise invalid_request("The username and password parameters are required.")
        requested = parse_scope(form.get("scope"))
        audience = self._audiences.resolve(client, parse_resources(form.get("resource")), requested)
        if len(password) > MAX_LOGIN_PASSWORD_CHARS:
            raise invalid_grant(BAD_CREDENTIALS)
        attempt = await self._guard.before_attempt(username, actor.source_ip)
        user = await self._find_user(username)
        password = normalise_password(password)
        matches = await self._hashing.verify(user.password_hash if user else None, password)
        succeeded = user is not None and matches and user.active
        await self._guard.after_attempt(attempt, succeeded=succeeded)
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
        grant = grant_scopes(requested, user.scopes, client.scopes)
        response = await self._start_family(
            client, user, grant, audience.token_scopes(grant, requested), audience, actor
        )
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
        self,
        client: ClientRecord,
        user: UserRecord,
        grant: list[str],
        scopes: list[str],
        audience: Audience,
        actor: Actor,
    ) -> TokenResponse:
        jti, exp = self._issuer.new_jti(audience.ttl)
        family_id = uuid.uuid4()
        access = self._issuer.issue(
            sub=str(user.id),
            client_id=client.client_id,
            aud=audience.aud,
            scopes=scopes,
            roles=user.roles,
            jti=jti,
            exp=exp,
            ttl=audience.ttl,
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
                scope=" ".join(grant),
                resources=audience.resources,
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
            scope=TokenResponse.scope_of(scopes),
            refresh_token=refresh if "refresh_token" in client.grant_types else None,
        )
