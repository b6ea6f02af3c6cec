"""``POST /oauth/token``: dispatch to the grants, in RFC 6749's order of checks.

Grant type known (``unsupported_grant_type``), client authenticated (``invalid_client``), grant
allowed for that client (``unauthorized_client``), then the grant's own parameters. One grant per
module (``password_grant``, ``refresh_grant``, ``code_grant``, ``device_grant``: the last two are
handed in from wiring); client_credentials is short enough to live here.
Each grant resolves the token's audience (``audience.py``, RFC 8707) from ``resource``, ``scope``
or the client's default.
Refusals from elsewhere (no signing key loaded, a login throttled) become the RFC 6749 errors the
token endpoint answers with.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping

from auth_service.audit.service import Actor, AuditTrail
from auth_service.clients.authentication import ClientAuthenticator
from auth_service.clients.directory import ClientDirectory
from auth_service.clients.repository import ClientRecord
from auth_service.keys.keyring import NoSigningKey
from auth_service.passwords.hashing import PasswordHashing
from auth_service.revocations.service import Revoker
from auth_service.settings import TokenSettings
from auth_service.throttling.errors import ThrottleRefusal
from auth_service.tokens.access import AccessTokenIssuer
from auth_service.tokens.audience import AudienceResolver, parse_resources
from auth_service.tokens.errors import OAuthError, TemporarilyUnavailable, invalid_request, refused
from auth_service.tokens.login_guard import LoginGuard, NoLoginGuard
from auth_service.tokens.password_grant import PasswordGrant
from auth_service.tokens.refresh_grant import RefreshTokenGrant, SuccessorSeal
from auth_service.tokens.responses import BEARER, TokenResponse
from auth_service.tokens.scopes import grant_scopes, parse_scope
from shared.db.pool import PostgresPool

__all__ = ["Grant", "TokenResponse", "TokenService"]

Grant = Callable[[ClientRecord, dict[str, str], Actor], Awaitable[TokenResponse]]


class TokenService:
    __slots__ = ("_audiences", "_clients", "_grants", "_issuer")

    def __init__(
        self,
        pool: PostgresPool,
        settings: TokenSettings,
        hashing: PasswordHashing,
        issuer: AccessTokenIssuer,
        audiences: AudienceResolver,
        audit: AuditTrail,
        revoker: Revoker,
        clients: ClientDirectory,
        *,
        successor_seal: SuccessorSeal,
        login_guard: LoginGuard | None = None,
        on_login_failure: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
        password_grant_enabled: bool = True,
        more_grants: Mapping[str, Grant] | None = None,
    ) -> None:
        """``successor_seal`` (the KEK) keeps refresh-token successors for the reuse grace;
        ``clock`` is the refresh grant's. ``password_grant_enabled`` false (the legacy grant,
        RFC 9700 section 2.4) answers ``unsupported_grant_type`` to every client; ``more_grants``
        (authorization_code, device_code) are built in wiring, each keyed by its grant type."""
        self._issuer = issuer
        self._audiences = audiences
        self._clients = ClientAuthenticator(clients)
        guard = login_guard or NoLoginGuard()
        self._grants: dict[str, Grant] = {
            "password": PasswordGrant(
                pool, settings, hashing, issuer, audiences, audit, guard, on_login_failure
            ),
            "refresh_token": RefreshTokenGrant(
                pool, settings, issuer, audiences, audit, revoker, successor_seal, clock=clock
            ),
            "client_credentials": self._client_credentials,
            **(more_grants or {}),
        }
        if not password_grant_enabled:
            del self._grants["password"]

    async def token(
        self, form: dict[str, str], authorization: str | None, source_ip: str | None
    ) -> TokenResponse:
        grant_type = form.get("grant_type")
        if grant_type is None:
            raise invalid_request("The grant_type parameter is missing.")
        grant = self._grants.get(grant_type)
        if grant is None:
            raise OAuthError("unsupported_grant_type", f"The grant type {grant_type!r} is not supported.")
        client = await self._clients.authenticate(authorization, form)
        if grant_type not in client.grant_types:
            raise OAuthError("unauthorized_client", f"This client may not use the {grant_type} grant.")
        try:
            return await grant(client, form, Actor(id=client.client_id, source_ip=source_ip))
        except NoSigningKey as exc:
            raise TemporarilyUnavailable(exc.detail) from None
        except ThrottleRefusal as refusal:
            raise refused(refusal) from None

    async def _client_credentials(
        self, client: ClientRecord, form: dict[str, str], actor: Actor
    ) -> TokenResponse:
        if not client.confidential:
            raise OAuthError("unauthorized_client", "Only confidential clients may use client_credentials.")
        requested = parse_scope(form.get("scope"))
        audience = self._audiences.resolve(client, parse_resources(form.get("resource")), requested)
        scopes = audience.token_scopes(grant_scopes(requested, client.scopes), requested)
        jti, exp = self._issuer.new_jti(audience.ttl)
        access = self._issuer.issue(
            sub=client.client_id,
            client_id=client.client_id,
            aud=audience.aud,
            scopes=scopes,
            roles=[],
            jti=jti,
            exp=exp,
            ttl=audience.ttl,
        )
        return TokenResponse(
            access_token=access.token,
            token_type=BEARER,
            expires_in=access.expires_in,
            scope=TokenResponse.scope_of(scopes),
        )
