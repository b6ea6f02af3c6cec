"""The auth service's object graph, built once from the settings: ``build_services(settings)``.

Every component is constructed here and only here, each handed the part of the settings it needs
(``settings.passwords`` to the password hashing, never the whole object); controllers receive the
typed services they call as closure arguments (``auth_service/app.py``). Nothing connects while
building: ``AuthServices.running`` opens the pool, loads the signing keys, starts the revocation
publisher and feed (``revocations/propagation.py``) when the app starts. Every revoking change
records its revocations through the one ``Revoker``, in the change's transaction.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from litestar import Litestar
from redis.asyncio import Redis

from auth_service.actors import RequestActors
from auth_service.audit.service import AuditTrail
from auth_service.browser_wiring import BrowserServices, GraphParts, build_browser_services
from auth_service.clients.authentication import ClientAuthenticator
from auth_service.clients.directory import ClientDirectory
from auth_service.clients.service import ClientService
from auth_service.discovery.documents import ServerMetadata
from auth_service.discovery.userinfo import UserInfoService
from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.keys.service import SigningKeys, key_encryption_key
from auth_service.mail_wiring import MailServices, build_mail_services
from auth_service.metrics import AuthMetrics, active_key_age
from auth_service.oauth_wiring import OAuthServices, build_oauth_services
from auth_service.passwords.hashing import PasswordHashing
from auth_service.passwords.policy import PasswordPolicy
from auth_service.powers.service import AUTH_RESOURCE
from auth_service.resources.registry import ResourceRegistry
from auth_service.resources.service import ResourceServerService
from auth_service.retention.schedule import PurgeSchedule
from auth_service.retention.service import RetentionPurge
from auth_service.revocations.propagation import RevocationPropagation
from auth_service.revocations.service import Revoker
from auth_service.roles.service import RoleService
from auth_service.settings import AuthSettings, TokenSettings
from auth_service.throttling.client_address import ClientAddresses
from auth_service.throttling.limits import Throttles
from auth_service.tokens.admin_revocation import AdminTokenRevocation
from auth_service.tokens.audience import AudienceResolver
from auth_service.tokens.presented import PresentedTokens
from auth_service.tokens.sessions import SessionService
from auth_service.users.self_service import SelfService
from auth_service.users.service import UserService
from auth_service.users.sessions import UserSessions
from shared.auth.keys import PreparedKey, StaticKeySource
from shared.auth.revocation_feed import RevocationFeed
from shared.auth.verifier import TokenVerifier
from shared.db.pool import PostgresPool
from shared.http.health import ReadinessCheck

__all__ = ["REALM", "AuthServices", "OAuthServices", "build_services"]

REALM = "auth"
"""``realm`` of this service's ``WWW-Authenticate: Bearer`` challenges."""
LEEWAY = 30
"""Clock leeway (seconds) of this service's verifiers: a token is expired once ``exp + LEEWAY <= now``,
for its own API and for revocation and introspection (which verify signature and claims for any
audience of ours and ask the revocation table themselves: ``tokens/presented.py``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthServices:
    """What the app is made of; tests reach the same services the handlers use."""

    settings: AuthSettings
    pool: PostgresPool
    redis: Redis
    metrics: AuthMetrics
    signing_keys: SigningKeys
    bearer_verifier: TokenVerifier
    hashing: PasswordHashing
    throttles: Throttles
    actors: RequestActors
    audit: AuditTrail
    metadata: ServerMetadata
    oauth: OAuthServices
    revocations: RevocationPropagation
    admin_tokens: AdminTokenRevocation
    userinfo: UserInfoService
    users: UserService
    accounts: SelfService
    user_sessions: UserSessions
    roles: RoleService
    clients: ClientService
    resource_registry: ResourceRegistry
    resource_servers: ResourceServerService
    purge: PurgeSchedule
    browser: BrowserServices
    mail: MailServices

    @asynccontextmanager
    async def running(self, _: Litestar) -> AsyncIterator[None]:
        """The app's lifespan: open what connects, load the keys and the resource servers, start
        publishing and following revocations, warm argon2; close in reverse."""
        await self.pool.open()
        await self.signing_keys.start()
        await self.resource_registry.start()
        await self.revocations.start()
        await self.purge.start()
        await self.browser.backchannel_logout.start()
        await self.mail.start()
        await self.hashing.dummy_hash()
        try:
            yield
        finally:
            await self.mail.stop()
            await self.browser.backchannel_logout.stop()
            await self.purge.stop()
            await self.revocations.stop()
            await self.resource_registry.stop()
            await self.signing_keys.stop()
            self.hashing.close()
            await self.throttles.aclose()
            await self.redis.aclose()
            await self.pool.close()

    def readiness(self) -> dict[str, ReadinessCheck]:
        """``/readyz``: the database and a loaded signing key (a token can be issued). Not the
        revocation feed: only this service's own API needs it (503 there past the grace), while the
        OAuth endpoints, introspection included, answer from PostgreSQL."""

        async def keys_ready() -> bool:
            return self.signing_keys.keyring.is_ready()

        return {"database": self.pool.is_ready, "signing_keys": keys_ready}

    def scraped_dependencies(self) -> dict[str, ReadinessCheck]:
        """``service_dependency_up`` on each scrape: the database and the shared Redis."""

        async def redis_answers() -> bool:
            return bool(await self.redis.ping())

        return {"database": self.pool.is_ready, "redis": redis_answers}


def _signing_keys(
    settings: AuthSettings,
    pool: PostgresPool,
    kek: KeyEncryptionKey,
    audit: AuditTrail,
    metrics: AuthMetrics,
    revoker: Revoker,
) -> tuple[SigningKeys, StaticKeySource]:
    """The keys, and the key source this service verifies its own tokens with (no HTTP to itself)."""
    keys = settings.keys
    signing_keys = SigningKeys(
        pool,
        kek,
        keys,
        settings.key_retention_seconds,
        audit,
        on_rotation=metrics.key_rotation,
        revoker=revoker,
    )
    metrics.watch_signing_key(active_key_age(signing_keys.loaded), keys.key_rotation_interval)
    own_keys = StaticKeySource()
    signing_keys.keyring.on_public_keys(
        lambda jwks: own_keys.replace(PreparedKey.from_jwk(jwk) for jwk in jwks)
    )
    return signing_keys, own_keys


def _bearer_verifier(
    settings: TokenSettings,
    own_keys: StaticKeySource,
    feed: RevocationFeed,
    metrics: AuthMetrics,
    audience: str | None = AUTH_RESOURCE,
) -> TokenVerifier:
    """This service's own API (admin, self-service): tokens for ``auth`` only, so a token handed to
    another resource server opens nothing here; revocations from the stream. ``/userinfo`` takes
    ``audience=None``: any token of ours whose scope has ``openid`` (``discovery/userinfo.py``)."""
    return TokenVerifier(
        own_keys,
        issuer=settings.issuer,
        audience=audience,
        leeway=LEEWAY,
        revocations=feed,
        on_failure=metrics.token_verification_failure,
    )


def _accounts(settings: AuthSettings, users: UserService, throttles: Throttles) -> SelfService:
    registrations, password_changes = throttles.registration, throttles.password_change
    enabled = settings.users.registration_enabled
    return SelfService(
        users, registration_enabled=enabled, registrations=registrations, password_changes=password_changes
    )


def _purge(
    settings: AuthSettings, pool: PostgresPool, audit: AuditTrail, clock: Callable[[], float]
) -> PurgeSchedule:
    purge = RetentionPurge(
        pool,
        audit,
        audit_retention_days=settings.retention.audit_retention_days,
        reuse_grace=settings.tokens.refresh_reuse_grace,
        clock=clock,
    )
    return PurgeSchedule(purge, interval=settings.retention.purge_interval)


def _connections(settings: AuthSettings) -> tuple[PostgresPool, Redis, AuthMetrics]:
    """The pool and the Redis client (neither connects yet), and the metrics watching the pool."""
    database = settings.database
    pool = PostgresPool(database.database_url, min_size=database.db_pool_min, max_size=database.db_pool_max)
    redis = Redis.from_url(settings.redis.redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
    metrics = AuthMetrics("auth-service")
    metrics.watch_db_pool(lambda: pool.stats, database.db_pool_max)
    return pool, redis, metrics


def _metadata(
    settings: AuthSettings, signing_keys: SigningKeys, registry: ResourceRegistry
) -> ServerMetadata:
    """Discovery lists the password grant only while it is enabled; PAR (``POST /oauth/par``) is served."""
    return ServerMetadata(
        settings.tokens, settings.keys, signing_keys.keyring, registry,
        password_grant=settings.oidc.password_grant_enabled, pushed_authorization=True,
    )  # fmt: skip


def build_services(
    settings: AuthSettings, *, kek: KeyEncryptionKey | None = None, clock: Callable[[], float] = time.time
) -> AuthServices:
    """``kek`` defaults to the one the settings name (raises ``KeyEncryptionKeyError`` if none);
    ``clock`` is the refresh grant's (reuse grace) and the purge's, which tests move."""
    tokens = settings.tokens
    pool, redis, metrics = _connections(settings)
    audit, kek = AuditTrail(pool), kek or key_encryption_key(settings.keys)
    registry = ResourceRegistry(pool, interval=settings.oauth.resource_refresh_interval)
    audiences = AudienceResolver(registry, default_ttl=tokens.access_token_ttl, issuer=tokens.issuer)
    revoker = Revoker(audiences.longest_ttl)
    signing_keys, own_keys = _signing_keys(settings, pool, kek, audit, metrics, revoker)
    throttles = Throttles(settings.redis, settings.throttling, metrics)  # Redis with short timeouts
    passwords = settings.passwords
    hashing, policy = PasswordHashing.from_settings(passwords), PasswordPolicy.from_settings(passwords)
    sessions = SessionService(pool, revoker, audit)
    users = UserService(pool, hashing, policy, sessions, revoker, audit)
    directory = ClientDirectory(pool, ttl=settings.oauth.client_cache_ttl)
    any_audience = TokenVerifier(own_keys, issuer=tokens.issuer, audience=None, leeway=LEEWAY)
    presented = PresentedTokens(ClientAuthenticator(directory), any_audience)
    revocations = RevocationPropagation.build(settings, redis, metrics, revoker, LEEWAY)
    parts = GraphParts(
        pool=pool, audit=audit, metrics=metrics, kek=kek, keyring=signing_keys.keyring, own_keys=own_keys,
        directory=directory, audiences=audiences, sessions=sessions, hashing=hashing, throttles=throttles,
    )  # fmt: skip
    oauth = build_oauth_services(
        tokens, audiences, pool, presented, signing_keys, hashing, audit, revoker, sessions, directory,
        throttles, metrics, kek, clock, revocations.feed.issued_after, settings.oidc, parts.fresh_codes,
    )  # fmt: skip
    bearer_verifier = _bearer_verifier(tokens, own_keys, revocations.feed, metrics)
    userinfo_verifier = _bearer_verifier(tokens, own_keys, revocations.feed, metrics, audience=None)
    revocations.follow_key_revocations(signing_keys, [bearer_verifier, any_audience, userinfo_verifier])
    mail = build_mail_services(settings, parts, users, clock)
    return AuthServices(
        settings=settings,
        pool=pool,
        redis=redis,
        metrics=metrics,
        signing_keys=signing_keys,
        bearer_verifier=bearer_verifier,
        hashing=hashing,
        throttles=throttles,
        actors=RequestActors(ClientAddresses(settings.http.trusted_proxies)),
        audit=audit,
        metadata=_metadata(settings, signing_keys, registry),
        oauth=oauth,
        revocations=revocations,
        admin_tokens=AdminTokenRevocation(oauth.revocation),
        userinfo=UserInfoService(users, userinfo_verifier, realm=REALM),
        users=users,
        accounts=_accounts(settings, users, throttles),
        user_sessions=UserSessions(users, sessions),
        roles=RoleService(pool, audit, revoker),
        clients=ClientService(pool, audit, directory, revoker, development=settings.oidc.development),
        resource_registry=registry,
        resource_servers=ResourceServerService(pool, audit, registry),
        purge=_purge(settings, pool, audit, clock),
        browser=build_browser_services(settings, parts, users, clock, notices=mail.notices),
        mail=mail,
    )
