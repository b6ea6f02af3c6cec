"""The auth service's object graph, built once from the settings: ``build_services(settings)``.

Every component is constructed here and only here, each handed the part of the settings it needs
(``settings.passwords`` to the password hashing, never the whole object); controllers receive the
typed services they call as closure arguments (``auth_service/app.py``). Nothing connects while
building: ``AuthServices.running`` opens the pool and loads the signing keys when the app starts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from litestar import Litestar
from redis.asyncio import Redis

from auth_service.actors import RequestActors
from auth_service.audit.service import AuditTrail
from auth_service.clients.authentication import ClientAuthenticator
from auth_service.clients.directory import ClientDirectory
from auth_service.clients.service import ClientService
from auth_service.discovery.documents import ServerMetadata
from auth_service.discovery.userinfo import UserInfoService
from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.keys.service import SigningKeys
from auth_service.metrics import AuthMetrics, active_key_age
from auth_service.passwords.hashing import PasswordHashing
from auth_service.passwords.policy import PasswordPolicy
from auth_service.powers.service import AUTH_RESOURCE
from auth_service.resources.registry import ResourceRegistry
from auth_service.resources.service import ResourceServerService
from auth_service.roles.service import RoleService
from auth_service.settings import AuthSettings, TokenSettings
from auth_service.throttling.client_address import ClientAddresses
from auth_service.throttling.limits import Throttles
from auth_service.tokens.access import AccessTokenIssuer
from auth_service.tokens.audience import AudienceResolver
from auth_service.tokens.grants import TokenService
from auth_service.tokens.introspection import TokenIntrospection
from auth_service.tokens.presented import PresentedTokens
from auth_service.tokens.revocation import TokenRevocation
from auth_service.tokens.revocations import AccessRevocations
from auth_service.tokens.sessions import SessionService
from auth_service.users.self_service import SelfService
from auth_service.users.service import UserService
from auth_service.users.sessions import UserSessions
from shared.auth.deny_list import DenyList
from shared.auth.keys import PreparedKey, StaticKeySource
from shared.auth.litestar import bearer_challenge
from shared.auth.verifier import TokenVerifier
from shared.db.pool import PostgresPool
from shared.http.health import ReadinessCheck

__all__ = ["REALM", "AuthServices", "OAuthServices", "build_services"]

REALM = "auth"
"""``realm`` of this service's ``WWW-Authenticate: Bearer`` challenges."""


@dataclass(frozen=True, slots=True)
class OAuthServices:
    """The three OAuth endpoints' services (RFC 6749, RFC 7009, RFC 7662)."""

    tokens: TokenService
    revocation: TokenRevocation
    introspection: TokenIntrospection


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
    userinfo: UserInfoService
    users: UserService
    accounts: SelfService
    user_sessions: UserSessions
    roles: RoleService
    clients: ClientService
    resource_registry: ResourceRegistry
    resource_servers: ResourceServerService

    @asynccontextmanager
    async def running(self, _: Litestar) -> AsyncIterator[None]:
        """The app's lifespan: open what connects, load the keys and the resource servers, warm
        argon2; close in reverse."""
        await self.pool.open()
        await self.signing_keys.start()
        await self.resource_registry.start()
        await self.hashing.dummy_hash()
        try:
            yield
        finally:
            await self.resource_registry.stop()
            await self.signing_keys.stop()
            self.hashing.close()
            await self.throttles.aclose()
            await self.redis.aclose()
            await self.pool.close()

    def readiness(self) -> dict[str, ReadinessCheck]:
        """``/readyz``: the database and a loaded signing key (a token can be issued)."""

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
    kek: KeyEncryptionKey | None,
    audit: AuditTrail,
    metrics: AuthMetrics,
) -> tuple[SigningKeys, StaticKeySource]:
    """The keys, and the key source this service verifies its own tokens with (no HTTP to itself)."""
    keys = settings.keys
    kek = kek or KeyEncryptionKey.from_settings(keys.key_encryption_key, keys.key_encryption_key_file)
    signing_keys = SigningKeys(
        pool, kek, keys, settings.key_retention_seconds, audit, on_rotation=metrics.key_rotation
    )
    metrics.watch_signing_key(active_key_age(signing_keys.loaded), keys.key_rotation_interval)
    own_keys = StaticKeySource()
    signing_keys.keyring.on_public_keys(
        lambda jwks: own_keys.replace(PreparedKey.from_jwk(jwk) for jwk in jwks)
    )
    return signing_keys, own_keys


def _oauth_services(
    settings: TokenSettings,
    registry: ResourceRegistry,
    pool: PostgresPool,
    own_keys: StaticKeySource,
    signing_keys: SigningKeys,
    hashing: PasswordHashing,
    audit: AuditTrail,
    revocations: AccessRevocations,
    directory: ClientDirectory,
    throttles: Throttles,
    metrics: AuthMetrics,
) -> OAuthServices:
    issuer = AccessTokenIssuer(signing_keys.keyring, issuer=settings.issuer)
    audiences = AudienceResolver(registry, default_ttl=settings.access_token_ttl)
    # Signature and claims only, any audience of ours: revocation and introspection look at the
    # deny-list and decide who may see a token themselves (tokens/presented.py).
    verifier = TokenVerifier(own_keys, issuer=settings.issuer, audience=None)
    presented = PresentedTokens(ClientAuthenticator(directory), verifier)
    tokens = TokenService(
        pool,
        settings,
        hashing,
        issuer,
        audiences,
        audit,
        revocations,
        directory,
        login_guard=throttles.login,
        on_login_failure=metrics.login_failure,
    )
    return OAuthServices(
        tokens=tokens,
        revocation=TokenRevocation(pool, presented, revocations, audit),
        introspection=TokenIntrospection(pool, presented, revocations, limiter=throttles.introspection),
    )


def _bearer_verifier(
    settings: TokenSettings, own_keys: StaticKeySource, deny_list: DenyList, metrics: AuthMetrics
) -> TokenVerifier:
    """This service's own API (admin, self-service, ``/userinfo``): tokens for ``auth`` only, so a
    token handed to another resource server opens nothing here."""
    return TokenVerifier(
        own_keys,
        issuer=settings.issuer,
        audience=AUTH_RESOURCE,
        deny_list=deny_list,
        on_failure=metrics.token_verification_failure,
    )


def build_services(settings: AuthSettings, *, kek: KeyEncryptionKey | None = None) -> AuthServices:
    """``kek`` defaults to the one the settings name (raises ``KeyEncryptionKeyError`` if none)."""
    database, tokens = settings.database, settings.tokens
    pool = PostgresPool(database.database_url, min_size=database.db_pool_min, max_size=database.db_pool_max)
    redis = Redis.from_url(settings.redis.redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
    metrics = AuthMetrics("auth-service")
    metrics.watch_db_pool(lambda: pool.stats, database.db_pool_max)
    audit = AuditTrail(pool)
    signing_keys, own_keys = _signing_keys(settings, pool, kek, audit, metrics)
    deny_list = DenyList(redis, settings.redis.redis_prefix)
    revocations = AccessRevocations(deny_list)
    throttles = Throttles(settings.redis, settings.throttling, metrics)  # a Redis client with short timeouts
    hashing = PasswordHashing.from_settings(settings.passwords)
    sessions = SessionService(pool, revocations, audit)
    users = UserService(pool, hashing, PasswordPolicy.from_settings(settings.passwords), sessions, audit)
    directory = ClientDirectory(pool, ttl=settings.oauth.client_cache_ttl)
    registry = ResourceRegistry(pool, interval=settings.oauth.resource_refresh_interval)
    oauth = _oauth_services(
        tokens,
        registry,
        pool,
        own_keys,
        signing_keys,
        hashing,
        audit,
        revocations,
        directory,
        throttles,
        metrics,
    )
    bearer_verifier = _bearer_verifier(tokens, own_keys, deny_list, metrics)
    accounts = SelfService(
        users,
        registration_enabled=settings.users.registration_enabled,
        registrations=throttles.registration,
        password_changes=throttles.password_change,
    )
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
        metadata=ServerMetadata(tokens, settings.keys, signing_keys.keyring, registry),
        oauth=oauth,
        userinfo=UserInfoService(users, challenge=bearer_challenge(REALM, "invalid_token")),
        users=users,
        accounts=accounts,
        user_sessions=UserSessions(users, sessions),
        roles=RoleService(pool, audit),
        clients=ClientService(pool, audit, directory),
        resource_registry=registry,
        resource_servers=ResourceServerService(pool, audit, registry),
    )
