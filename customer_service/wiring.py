"""The customer service's object graph, built once from its settings; nothing connects here.

Tokens are verified here, never by calling the auth service: the keys come from its JWKS
(``JwksCache``, discovered from the issuer's metadata) unless a ``key_source`` is injected (tests
sign with their own key). Revocations come from the auth service's Redis stream, followed into
memory by a ``RevocationFeed`` (when checked: the default). ``/readyz`` needs the database, the
signing keys (loaded once) and the revocations (loaded, and Redis read within the grace);
``lifespan`` opens and closes them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from litestar import Litestar
from redis.asyncio import Redis

from customer_service.customers.repository import CustomerRepository
from customer_service.customers.search import CustomerSearch
from customer_service.customers.service import CustomerService
from customer_service.settings import CustomerSettings, RevocationSettings, VerificationSettings
from shared.auth.jwks import JwksCache
from shared.auth.keys import KeySource
from shared.auth.revocation_feed import RevocationFeed, feed_redis
from shared.auth.verifier import TokenVerifier
from shared.db.pool import PostgresPool
from shared.http.health import ReadinessCheck
from shared.metrics import ServiceMetrics

__all__ = ["CustomerServices", "build_services"]


@dataclass(frozen=True, slots=True)
class CustomerServices:
    """Everything the customer service holds, built once by ``build_services``."""

    pool: PostgresPool
    metrics: ServiceMetrics
    keys: KeySource
    jwks: JwksCache | None
    """The JWKS cache ``keys`` is, unless a key source was injected: started and closed here."""
    redis: Redis | None
    """The auth service's Redis, when revocation is checked."""
    revocations: RevocationFeed | None
    verifier: TokenVerifier
    customers: CustomerService
    search: CustomerSearch

    def readiness(self) -> dict[str, ReadinessCheck]:
        keys, feed = self.keys, self.revocations

        async def signing_keys() -> bool:
            return keys.is_ready()

        checks: dict[str, ReadinessCheck] = {"database": self.pool.is_ready, "signing_keys": signing_keys}
        if feed is not None:

            async def revocations() -> bool:
                return feed.is_ready()

            checks["revocations"] = revocations
        return checks

    @asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        await self.pool.open()
        if self.jwks is not None:
            await self.jwks.start()
        if self.revocations is not None:
            await self.revocations.start()
        try:
            yield
        finally:
            if self.revocations is not None:
                await self.revocations.close()
            if self.jwks is not None:
                await self.jwks.close()
            if self.redis is not None:
                await self.redis.aclose()
            await self.pool.close()


def _keys(
    settings: VerificationSettings,
    metrics: ServiceMetrics,
    injected: KeySource | None,
    cache: type[JwksCache] = JwksCache,
) -> tuple[KeySource, JwksCache | None]:
    """The key source, and the JWKS cache it is unless one was injected."""
    if injected is not None:
        return injected, None
    jwks = cache(
        settings.issuer,
        jwks_url=settings.jwks_url or None,
        default_max_age=settings.jwks_default_max_age,
        unknown_kid_interval=settings.jwks_unknown_kid_interval,
        stale_if_error=settings.jwks_stale_if_error,
        on_fetch=metrics.jwks_fetch,
    )
    metrics.watch_jwks_age(lambda: jwks.age_seconds)
    return jwks, jwks


def _revocations(
    settings: RevocationSettings, leeway: int, metrics: ServiceMetrics
) -> tuple[Redis | None, RevocationFeed | None]:
    if not settings.check_revocation:
        return None, None
    redis = feed_redis(settings.redis_url)
    feed = RevocationFeed(
        redis,
        settings.redis_prefix,
        leeway=leeway,
        grace=settings.revocation_grace,
        on_event=metrics.revocation_event,
        on_error=metrics.revocation_feed_error,
    )
    metrics.watch_revocation_feed_age(lambda: feed.age_seconds)
    return redis, feed


def build_services(
    settings: CustomerSettings,
    key_source: KeySource | None = None,
    *,
    jwks_cache: type[JwksCache] = JwksCache,
) -> CustomerServices:
    """``jwks_cache``: ``OnDemandJwksCache`` where nothing runs between requests (AWS Lambda)."""
    database, verification, revocation = settings.database, settings.verification, settings.revocation
    pool = PostgresPool(database.database_url, min_size=database.db_pool_min, max_size=database.db_pool_max)
    metrics = ServiceMetrics("customer-service")
    metrics.watch_db_pool(lambda: pool.stats, database.db_pool_max)
    keys, jwks = _keys(verification, metrics, key_source, jwks_cache)
    redis, feed = _revocations(revocation, verification.token_leeway, metrics)
    verifier = TokenVerifier(
        keys,
        issuer=verification.issuer,
        audience=verification.audience,
        leeway=verification.token_leeway,
        cache_size=verification.token_cache_size,
        revocations=feed,
        on_failure=metrics.token_verification_failure,
    )
    if feed is not None:
        feed.on_key_revoked = verifier.forget_key
    customers = CustomerService(
        CustomerRepository(pool), require_if_match=settings.customers.require_if_match
    )
    search = CustomerSearch(pool, timeout=settings.customers.search_timeout)
    return CustomerServices(pool, metrics, keys, jwks, redis, feed, verifier, customers, search)
