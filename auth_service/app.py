"""``create_app(settings)``: the auth service as a Litestar app, with everything it needs injected.

Services are built here and handed to handlers through ``app.state``; nothing connects at import
time. The lifespan opens the database pool and Redis, loads (or creates) the signing keys and
starts the rotation timer; the service verifies its own bearer tokens with ``shared.auth`` over a
key source fed by its keyring (no HTTP to itself).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Router
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from redis.asyncio import Redis

from auth_service.audit.controllers import AdminAuditController
from auth_service.audit.service import AuditTrail
from auth_service.clients.controllers import AdminClientsController
from auth_service.clients.directory import ClientDirectory
from auth_service.clients.service import ClientService
from auth_service.discovery.controllers import discovery_handlers, userinfo
from auth_service.discovery.documents import ServerMetadata
from auth_service.keys.controllers import AdminKeysController
from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.keys.service import SigningKeys
from auth_service.passwords.hashing import PasswordHashing
from auth_service.passwords.policy import PasswordPolicy
from auth_service.roles.controllers import AdminRolesController
from auth_service.roles.service import RoleService
from auth_service.settings import AuthSettings
from auth_service.throttling.client_address import ClientAddresses
from auth_service.throttling.limits import Throttles
from auth_service.tokens.access import AccessTokenIssuer
from auth_service.tokens.controllers import oauth_handlers
from auth_service.tokens.grants import TokenService
from auth_service.tokens.inspection import TokenInspection
from auth_service.tokens.revocations import AccessRevocations
from auth_service.tokens.sessions import SessionService
from auth_service.users.admin_controllers import AdminSessionsController, AdminUsersController
from auth_service.users.controllers import RegistrationController, SelfServiceController
from auth_service.users.service import UserService
from shared.auth.deny_list import DenyList
from shared.auth.keys import PreparedKey, StaticKeySource
from shared.auth.litestar import BearerAuthMiddleware, requires_scopes
from shared.auth.verifier import TokenVerifier
from shared.db.pool import PostgresPool
from shared.http.content_type import require_declared_content_type
from shared.http.health import health_handlers
from shared.http.json_body import JsonBodyRequest
from shared.http.limits import install_header_limit
from shared.http.problems import problem_details_plugin
from shared.http.request_log import install_request_log
from shared.metrics import ServiceMetrics, install_request_metrics, metrics_handlers
from shared.tracing import install_tracing

__all__ = ["create_app"]

ADMIN_SCOPE = "users:manage"
PUBLIC_PATHS = [r"^/oauth/", r"^/\.well-known/", r"^/healthz$", r"^/readyz$", r"^/metrics$", r"^/schema"]


def create_app(settings: AuthSettings, *, kek: KeyEncryptionKey | None = None) -> Litestar:
    """``kek`` defaults to the one the settings name (raises ``KeyEncryptionKeyError`` if none)."""
    kek = kek or KeyEncryptionKey.from_settings(settings.key_encryption_key, settings.key_encryption_key_file)
    pool = PostgresPool(settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
    redis = Redis.from_url(settings.redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
    deny_list = DenyList(redis, settings.redis_prefix)
    signing_keys = SigningKeys(pool, kek, settings, on_rotation=lambda trigger: metrics.key_rotation(trigger))
    own_keys = StaticKeySource()
    signing_keys.keyring.on_public_keys(
        lambda jwks: own_keys.replace(PreparedKey.from_jwk(jwk) for jwk in jwks)
    )
    # --- metrics (shared/metrics, deploy/monitoring) ---
    metrics = ServiceMetrics("auth-service")
    metrics.watch_db_pool(lambda: pool.stats, settings.db_pool_max)

    def signing_key_age() -> float | None:
        active = next((row for row in signing_keys.list() if row.state == "active"), None)
        if active is None:
            return None
        return time.time() - (active.activated_at or active.activate_at).timestamp()

    metrics.watch_signing_key(signing_key_age, settings.key_rotation_interval)

    async def redis_answers() -> bool:
        return bool(await redis.ping())

    # --- end metrics ---
    throttles = Throttles(settings, metrics)  # a Redis client of its own, with short timeouts
    verifier = TokenVerifier(own_keys, issuer=settings.issuer, audience=settings.token_audience)
    bearer_verifier = TokenVerifier(
        own_keys,
        issuer=settings.issuer,
        audience=settings.token_audience,
        deny_list=deny_list,
        on_failure=metrics.token_verification_failure,
    )
    hashing = PasswordHashing(
        memory_kib=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
        threads=settings.password_hashing_threads,
    )
    policy = PasswordPolicy(
        min_length=settings.password_min_length,
        max_length=settings.password_max_length,
        min_strength=settings.password_min_strength,
    )
    audit = AuditTrail(pool)
    revocations = AccessRevocations(deny_list)
    sessions = SessionService(pool, revocations, audit)
    issuer = AccessTokenIssuer(
        signing_keys.keyring,
        issuer=settings.issuer,
        audience=settings.token_audience,
        ttl=settings.access_token_ttl,
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await pool.open()
        await signing_keys.start()
        await hashing.dummy_hash()
        try:
            yield
        finally:
            await signing_keys.stop()
            hashing.close()
            await throttles.aclose()
            await redis.aclose()
            await pool.close()

    async def keys_ready() -> bool:
        return signing_keys.keyring.is_ready()

    # App-level (Litestar deep-copies routers, and a verifier holds a Redis client): every route
    # needs a bearer token except the public ones below and those marked ``exclude_from_auth``.
    bearer = DefineMiddleware(
        BearerAuthMiddleware, verifier=bearer_verifier, realm="auth", exclude=PUBLIC_PATHS
    )
    admin = Router(
        "/api/1/admin",
        route_handlers=[
            AdminUsersController,
            AdminSessionsController,
            AdminRolesController,
            AdminClientsController,
            AdminKeysController,
            AdminAuditController,
        ],
        guards=[requires_scopes(ADMIN_SCOPE)],
        security=[{"bearer": []}],
    )
    app = Litestar(
        route_handlers=[
            *health_handlers({"database": pool.is_ready, "signing_keys": keys_ready}),
            *metrics_handlers(metrics, {"database": pool.is_ready, "redis": redis_answers}),
            *oauth_handlers(),
            *discovery_handlers(),
            RegistrationController,
            SelfServiceController,
            userinfo,
            admin,
        ],
        lifespan=[lifespan],
        middleware=[bearer],
        plugins=[problem_details_plugin()],
        before_request=require_declared_content_type,
        request_max_body_size=settings.max_body_bytes,
        request_class=JsonBodyRequest,  # hostile JSON (too deep, not UTF-8) is a 400, never a 500
        openapi_config=OpenAPIConfig(
            title="Auth service",
            version="1",
            path="/schema",
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT (RFC 9068)")
                }
            ),
        ),
        logging_config=None,
        debug=False,
    )
    install_header_limit(app, settings.max_header_bytes)
    install_request_log(app)
    install_request_metrics(app, metrics)
    install_tracing(app, "auth-service")  # outermost: off unless OTEL_EXPORTER_OTLP_ENDPOINT is set
    clients = ClientDirectory(pool, ttl=settings.client_cache_ttl)
    state: dict[str, Any] = {
        "settings": settings,
        "metrics": metrics,
        "pool": pool,
        "redis": redis,
        "signing_keys": signing_keys,
        "audit": audit,
        "metadata": ServerMetadata(settings, signing_keys.keyring),
        "token_service": TokenService(
            pool,
            settings,
            hashing,
            issuer,
            audit,
            revocations,
            clients,
            login_guard=throttles.login,
            on_login_failure=metrics.login_failure,
        ),
        "token_inspection": TokenInspection(
            pool, verifier, revocations, audit, clients, introspection_limiter=throttles.introspection
        ),
        "session_service": sessions,
        "user_service": UserService(pool, hashing, policy, sessions, audit),
        "role_service": RoleService(pool, settings.scopes_supported, audit),
        "client_service": ClientService(pool, settings.scopes_supported, audit, clients),
        "password_hashing": hashing,
        "throttles": throttles,
        "client_addresses": ClientAddresses(settings.trusted_proxies),
    }
    for name, value in state.items():
        setattr(app.state, name, value)
    return app
