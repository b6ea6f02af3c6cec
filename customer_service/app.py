"""``create_app(settings)``: the customer service as a Litestar app, with everything it needs injected.

Tokens are verified here, never by calling the auth service: the keys come from its JWKS
(``JwksCache``, discovered from the issuer's metadata) unless a ``key_source`` is injected (tests
sign with their own key). ``/readyz`` needs the database and the signing keys (loaded once), plus
Redis when revocation is checked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from redis.asyncio import Redis

from customer_service.customers.controllers import customer_router
from customer_service.customers.openapi import components as openapi_components
from customer_service.customers.repository import CustomerRepository
from customer_service.customers.search import CustomerSearch
from customer_service.customers.service import CustomerService
from customer_service.settings import CustomerSettings
from shared.auth.deny_list import DenyList
from shared.auth.jwks import JwksCache
from shared.auth.keys import KeySource
from shared.auth.litestar import BearerAuthMiddleware
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

UNAUTHENTICATED = ["^/healthz$", "^/readyz$", "^/metrics$", "^/schema"]


def create_app(settings: CustomerSettings, key_source: KeySource | None = None) -> Litestar:
    pool = PostgresPool(settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
    metrics = ServiceMetrics("customer-service")
    metrics.watch_db_pool(lambda: pool.stats, settings.db_pool_max)
    jwks: JwksCache | None = None
    if key_source is None:
        jwks = JwksCache(
            settings.issuer,
            jwks_url=settings.jwks_url or None,
            default_max_age=settings.jwks_default_max_age,
            unknown_kid_interval=settings.jwks_unknown_kid_interval,
            stale_if_error=settings.jwks_stale_if_error,
            on_fetch=metrics.jwks_fetch,
        )
        metrics.watch_jwks_age(lambda: jwks.age_seconds if jwks is not None else None)
        key_source = jwks
    keys: KeySource = key_source
    redis = Redis.from_url(settings.redis_url) if settings.check_revocation else None
    verifier = TokenVerifier(
        keys,
        issuer=settings.issuer,
        audience=settings.audience,
        leeway=settings.token_leeway,
        cache_size=settings.token_cache_size,
        deny_list=DenyList(redis, settings.redis_prefix) if redis is not None else None,
        on_failure=metrics.token_verification_failure,
    )

    async def keys_ready() -> bool:
        return keys.is_ready()

    checks: dict[str, Callable[[], Awaitable[bool]]] = {"database": pool.is_ready, "signing_keys": keys_ready}
    if redis is not None:
        client = redis

        async def redis_ready() -> bool:
            return bool(await client.ping())

        checks["redis"] = redis_ready

    @asynccontextmanager
    async def resources(app: Litestar) -> AsyncIterator[None]:
        await pool.open()
        if jwks is not None:
            await jwks.start()
        try:
            yield
        finally:
            if jwks is not None:
                await jwks.close()
            if redis is not None:
                await redis.aclose()
            await pool.close()

    repository = CustomerRepository(pool)
    service = CustomerService(repository, require_if_match=settings.require_if_match)
    search = CustomerSearch(pool, timeout=settings.search_timeout)
    app = Litestar(
        route_handlers=[
            *health_handlers(checks),
            *metrics_handlers(metrics, checks),
            customer_router(service, search, f"{settings.api_prefix}/customers"),
        ],
        lifespan=[resources],
        middleware=[
            DefineMiddleware(
                BearerAuthMiddleware, verifier=verifier, realm=settings.realm, exclude=UNAUTHENTICATED
            )
        ],
        plugins=[problem_details_plugin()],
        before_request=require_declared_content_type,
        request_max_body_size=settings.max_body_bytes,
        request_class=JsonBodyRequest,  # hostile JSON (too deep, not UTF-8) is a 400, never a 500
        openapi_config=OpenAPIConfig(
            title="Customer service", version="1", path="/schema", components=[openapi_components()]
        ),
        logging_config=None,
        debug=False,
    )
    install_header_limit(app, settings.max_header_bytes)
    install_request_log(app)
    install_request_metrics(app, metrics)
    install_tracing(app, "customer-service")  # outermost: off unless OTEL_EXPORTER_OTLP_ENDPOINT is set
    app.state.settings = settings
    app.state.pool = pool
    app.state.metrics = metrics
    app.state.verifier = verifier
    return app
