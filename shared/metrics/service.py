"""``ServiceMetrics``: the metrics every service of the ecosystem emits, on a registry of its own.

What any resource server has (request durations, database pool, dependency checks, token
verification, JWKS cache, Redis errors, build info) is declared here; a service adds its own
families on the same registry through ``counter`` and ``watch`` (the auth service's live in
``auth_service/metrics.py``). The recording methods take short codes from small fixed sets
(failure reasons, operation names); never pass user input, ids or messages as label values: each
distinct value is a time series kept for ever by Prometheus.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from importlib import metadata

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)

from shared.metrics.requests import RequestDurations
from shared.metrics.scrape_time import ScrapeTimeGauges, single_value

__all__ = ["METRIC_NAMES", "ScrapeTimeValues", "ServiceMetrics"]

METRIC_NAMES = (
    "http_server_request_duration_seconds",
    "token_verification_failures_total",
    "jwks_fetches_total",
    "jwks_cache_age_seconds",
    "db_pool_connections",
    "db_pool_max_connections",
    "redis_errors_total",
    "revocation_events_total",
    "revocation_feed_errors_total",
    "revocation_feed_age_seconds",
    "service_dependency_up",
    "service_build_info",
)
"""Every family defined here (counters by their exposed ``_total`` name); a service lists its own."""

ScrapeTimeValues = Callable[[], Mapping[tuple[str, ...], float] | None]
"""Read at each scrape: label values (an empty tuple for none) to the value; ``None``: no sample."""


def _package_version() -> str:
    try:
        return metadata.version("fintech-auth")
    except metadata.PackageNotFoundError:
        return "unknown"


class ServiceMetrics:
    """Made once per app (in its wiring); ``/metrics`` serves ``registry``."""

    def __init__(self, service: str, *, version: str | None = None) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        build = Gauge("service_build_info", "Always 1: names the service and its version.",
                      ("service", "version"), registry=registry)  # fmt: skip
        build.labels(service, version or _package_version()).set(1)
        self.requests = RequestDurations()
        registry.register(self.requests)

        self._scrape_time = ScrapeTimeGauges()
        registry.register(self._scrape_time)
        self._verification_failures = self.counter(
            "token_verification_failures", "Rejected access tokens by reason.", "reason"
        )
        self._jwks_fetches = self.counter(
            "jwks_fetches", "JWKS fetches by outcome: updated, not_modified or error.", "outcome"
        )
        self._redis_errors = self.counter("redis_errors", "Failed Redis commands by operation.", "operation")
        self._revocation_events = self.counter(
            "revocation_events", "Revocations read from the revocation stream, by kind.", "kind"
        )
        self._revocation_feed_errors = self.counter(
            "revocation_feed_errors", "Failed reads of the revocation stream (each retried)."
        )
        self._dependency_up = Gauge(
            "service_dependency_up", "1 when the dependency passed the last scrape's check, else 0.",
            ("dependency",), registry=registry,
        )  # fmt: skip

    def counter(self, name: str, documentation: str, *labels: str) -> Counter:
        """A counter family on this app's registry (exposed as ``name_total``)."""
        return Counter(name, documentation, labels, registry=self.registry)

    def watch(
        self, name: str, documentation: str, values: ScrapeTimeValues, labels: tuple[str, ...] = ()
    ) -> None:
        """A gauge family read at scrape time (a live value, never a stale copy)."""
        self._scrape_time.add(name, documentation, values, labels)

    # ------------------------------------------------------------------ events
    def token_verification_failure(self, reason: str) -> None:
        """Fits ``TokenVerifier(on_failure=...)``."""
        self._verification_failures.labels(reason).inc()

    def jwks_fetch(self, outcome: str) -> None:
        """Fits ``JwksCache(on_fetch=...)``."""
        self._jwks_fetches.labels(outcome).inc()

    def redis_error(self, operation: str) -> None:
        self._redis_errors.labels(operation).inc()

    def revocation_event(self, kind: str) -> None:
        """Fits ``RevocationFeed(on_event=...)``."""
        self._revocation_events.labels(kind).inc()

    def revocation_feed_error(self) -> None:
        """Fits ``RevocationFeed(on_error=...)``."""
        self._revocation_feed_errors.inc()

    # ---------------------------------------------------- read at scrape time
    def watch_jwks_age(self, age: Callable[[], float | None]) -> None:
        """``age``: seconds since the issuer last confirmed the cached key set (``None``: never)."""
        self.watch(
            "jwks_cache_age_seconds",
            "Seconds since the issuer last confirmed the cached JWKS.",
            single_value(age),
        )

    def watch_revocation_feed_age(self, age: Callable[[], float | None]) -> None:
        """``age``: seconds since the revocation stream was last read (``None``: not loaded yet);
        past the verifier's grace, tokens are refused."""
        self.watch(
            "revocation_feed_age_seconds",
            "Seconds since the revocation stream was last read successfully.",
            single_value(age),
        )

    def watch_db_pool(self, stats: Callable[[], tuple[int, int]], max_size: int) -> None:
        """``stats`` gives (connections in use, pool size), as ``PostgresPool.stats`` does."""

        def connections() -> dict[tuple[str, ...], float]:
            in_use, size = stats()
            return {("in_use",): float(in_use), ("idle",): float(size - in_use)}

        self.watch("db_pool_connections", "Open pool connections by state.", connections, ("state",))
        self.watch(
            "db_pool_max_connections", "Most connections the pool may open.", single_value(lambda: max_size)
        )

    async def check_dependencies(
        self, checks: Mapping[str, Callable[[], Awaitable[bool]]], seconds_each: float
    ) -> None:
        """Run the readiness checks concurrently, each bounded, and publish ``service_dependency_up``."""

        async def passes(check: Callable[[], Awaitable[bool]]) -> bool:
            try:
                async with asyncio.timeout(seconds_each):
                    return bool(await check())
            except Exception:
                return False

        names = list(checks)
        results = await asyncio.gather(*(passes(checks[name]) for name in names))
        for name, ok in zip(names, results, strict=True):
            self._dependency_up.labels(name).set(1 if ok else 0)
