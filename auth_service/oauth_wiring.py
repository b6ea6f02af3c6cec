"""The OAuth endpoints' part of the object graph: the token endpoint with every grant (the
authorization code and device grants issue a person's login through one ``LoginTokens``),
revocation and introspection. Apart from ``wiring.py`` only to keep each module short.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from auth_service.audit.service import AuditTrail
from auth_service.browser_settings import OidcSettings
from auth_service.clients.directory import ClientDirectory
from auth_service.device.schemas import DEVICE_CODE_GRANT
from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.keys.service import SigningKeys
from auth_service.metrics import AuthMetrics
from auth_service.oidc.id_tokens import IdTokenIssuer
from auth_service.passwords.hashing import PasswordHashing
from auth_service.revocations.service import Revoker
from auth_service.settings import TokenSettings
from auth_service.throttling.limits import Throttles
from auth_service.tokens.access import AccessTokenIssuer, IssuedAfter
from auth_service.tokens.audience import AudienceResolver
from auth_service.tokens.code_grant import AuthorizationCodeGrant
from auth_service.tokens.device_grant import DeviceCodeGrant
from auth_service.tokens.fresh_codes import FreshCodes
from auth_service.tokens.grants import Grant, TokenService
from auth_service.tokens.introspection import TokenIntrospection
from auth_service.tokens.login_tokens import LoginTokens
from auth_service.tokens.presented import PresentedTokens
from auth_service.tokens.revocation import TokenRevocation
from auth_service.tokens.sessions import SessionService
from shared.db.pool import PostgresPool

__all__ = ["OAuthServices", "build_oauth_services"]


@dataclass(frozen=True, slots=True)
class OAuthServices:
    """The three OAuth endpoints' services (RFC 6749, RFC 7009, RFC 7662)."""

    tokens: TokenService
    revocation: TokenRevocation
    introspection: TokenIntrospection
    fresh_codes: FreshCodes


def _id_tokens(signing_keys: SigningKeys, settings: TokenSettings, oidc: OidcSettings) -> IdTokenIssuer:
    return IdTokenIssuer(signing_keys.keyring, issuer=settings.issuer, ttl=oidc.id_token_ttl)


def build_oauth_services(
    settings: TokenSettings,
    audiences: AudienceResolver,
    pool: PostgresPool,
    presented: PresentedTokens,
    signing_keys: SigningKeys,
    hashing: PasswordHashing,
    audit: AuditTrail,
    revoker: Revoker,
    sessions: SessionService,
    directory: ClientDirectory,
    throttles: Throttles,
    metrics: AuthMetrics,
    kek: KeyEncryptionKey,
    clock: Callable[[], float],
    issued_after: IssuedAfter,
    oidc: OidcSettings,
    fresh_codes: FreshCodes,
) -> OAuthServices:
    issuer = AccessTokenIssuer(signing_keys.keyring, issuer=settings.issuer, issued_after=issued_after)
    logins = LoginTokens(settings, issuer, audiences, audit, _id_tokens(signing_keys, settings, oidc))
    more_grants: dict[str, Grant] = {
        "authorization_code": AuthorizationCodeGrant(pool, logins, sessions, audit, fresh_codes, clock=clock),
        DEVICE_CODE_GRANT: DeviceCodeGrant(pool, logins),
    }
    tokens = TokenService(
        pool, settings, hashing, issuer, audiences, audit, revoker, directory, successor_seal=kek,
        clock=clock, login_guard=throttles.login, on_login_failure=metrics.login_failure,
        password_grant_enabled=oidc.password_grant_enabled, more_grants=more_grants,
    )  # fmt: skip
    return OAuthServices(
        tokens=tokens,
        revocation=TokenRevocation(pool, presented, revoker, sessions, audit),
        introspection=TokenIntrospection(pool, presented, limiter=throttles.introspection),
        fresh_codes=fresh_codes,
    )
