"""The resource owner password credentials grant (RFC 6749 section 4.3), legacy, for first-party apps.

The credentials are checked by ``CredentialCheck`` (``credentials.py``), the same check as the
login page's: one ``invalid_grant`` for unknown account, wrong password and disabled account after
the same argon2 work. A success starts a refresh-token family (the session: its ``scope`` is the
grant, its ``resources`` the first token's audience). The refresh token is answered only to a
client allowed the ``refresh_token`` grant; the family exists either way, so the session can be
listed and ended like any other. A password is one factor: the tokens say ``amr`` ``["pwd"]`` and
``acr`` ``"1"``, so a route requiring MFA (RFC 9470 step-up) refuses them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from auth_service.audit.service import Actor, AuditTrail
from auth_service.clients.repository import ClientRecord
from auth_service.oidc.assurance import ACR_ONE_FACTOR, AMR_PASSWORD
from auth_service.passwords.hashing import PasswordHashing
from auth_service.random_secrets import digest, new_secret
from auth_service.settings import TokenSettings
from auth_service.tokens.access import AccessTokenIssuer, LoginAssurance
from auth_service.tokens.audience import Audience, AudienceResolver, parse_resources
from auth_service.tokens.credentials import BadCredentials, CredentialCheck
from auth_service.tokens.errors import invalid_grant, invalid_request
from auth_service.tokens.families import FamilyRepository
from auth_service.tokens.login_guard import LoginGuard
from auth_service.tokens.login_tokens import person_grant
from auth_service.tokens.responses import BEARER, TokenResponse
from auth_service.tokens.scopes import parse_scope
from auth_service.users.repository import UserRecord, UserRepository
from shared.db.pool import PostgresPool

__all__ = ["PasswordGrant"]


class PasswordGrant:
    __slots__ = (
        "_audiences",
        "_audit",
        "_credentials",
        "_families",
        "_issuer",
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
        self._issuer = issuer
        self._audiences = audiences
        self._audit = audit
        self._credentials = CredentialCheck(pool, hashing, audit, guard, on_login_failure)
        self._users = UserRepository()
        self._families = FamilyRepository()

    async def __call__(self, client: ClientRecord, form: dict[str, str], actor: Actor) -> TokenResponse:
        username, password = form.get("username"), form.get("password")
        if username is None or password is None:
            raise invalid_request("The username and password parameters are required.")
        requested = parse_scope(form.get("scope"))
        audience = self._audiences.resolve(client, parse_resources(form.get("resource")), requested)
        try:
            user = await self._credentials.verify(username, password, actor)
        except BadCredentials as exc:
            raise invalid_grant(exc.detail) from None
        grant = person_grant(requested, user.scopes, client.scopes)
        return await self._start_family(
            client, user, grant, audience.token_scopes(grant, requested), audience, actor
        )

    async def _start_family(
        self,
        client: ClientRecord,
        user: UserRecord,
        grant: list[str],
        scopes: list[str],
        audience: Audience,
        actor: Actor,
    ) -> TokenResponse:
        family_id = uuid.uuid4()
        login = LoginAssurance(auth_time=int(time.time()), amr=[AMR_PASSWORD], acr=ACR_ONE_FACTOR)
        access = self._issuer.for_person(
            user, client.client_id, audience, scopes, sid=str(family_id), login=login
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
                access_jti=access.jti,
                access_exp=access.exp,
                login=login,
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
