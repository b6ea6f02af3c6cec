"""``ServiceMetrics``: every metric of one app instance, on a registry of its own.

The recording methods take short codes from small fixed sets (grant types, RFC 6749 error codes,
failure reasons, operation names); never pass user input, ids or messages as label values: each
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

__all__ = ["GRANT_TYPES", "METRIC_NAMES", "ServiceMetrics"]

GRANT_TYPES = ("password", "refresh_token", "client_credentials")

METRIC_NAMES = (
    "http_server_request_duration_seconds",
    "auth_token_requests_total",
    "auth_login_failures_total",
    "auth_throttle_decisions_total",
    "token_verification_failures_total",
    "jwks_fetches_total",
    "jwks_cache_age_seconds",
    "auth_signing_key_rotations_total",
    "auth_signing_key_age_seconds",
    "auth_signing_key_rotation_interval_seconds",
    "db_pool_connections",
    "db_pool_max_connections",
    "redis_errors_total",
    "service_dependency_up",
    "service_build_info",
)
"""Every family defined here (counters by their exposed ``_total`` name)."""


def _package_version() -> str:
    try:
        return metadata.version("fintech-auth")
    except metadata.PackageNotFoundError:
        return "unknown"


class ServiceMetrics:
    """Made in ``create_app`` and kept on ``app.state.metrics``; ``/metrics`` serves ``registry``."""

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

        def counter(name: str, documentation: str, *labels: str) -> Counter:
            return Counter(name, documentation, labels, registry=registry)

        self._token_requests = counter(
            "auth_token_requests",
            "Token endpoint requests by grant type and outcome: issued, or the RFC 6749 error code.",
            "grant_type",
            "outcome",
        )
        self._token_request_children: dict[tuple[str, str], Counter] = {}
        for grant in GRANT_TYPES:  # present from the start, so rate() sees the first issuance
            self._token_requests.labels(grant, "issued")
        self._login_failures = counter("auth_login_failures", "Failed password logins by reason.", "reason")
        self._throttle = counter(
            "auth_throttle_decisions", "Rate-limit decisions by limiter: allowed or throttled.", "limiter",
            "decision",
        )  # fmt: skip
        self._verification_failures = counter(
            "token_verification_failures", "Rejected access tokens by reason.", "reason"
        )
        self._jwks_fetches = counter(
            "jwks_fetches", "JWKS fetches by outcome: updated, not_modified or error.", "outcome"
        )
        self._rotations = counter(
            "auth_signing_key_rotations",
            "Signing key rotations this replica started, by trigger: scheduled or manual (API).",
            "trigger",
        )
        self._redis_errors = counter("redis_errors", "Failed Redis commands by operation.", "operation")
        self._dependency_up = Gauge(
            "service_dependency_up", "1 when the dependency passed the last scrape's check, else 0.",
            ("dependency",), registry=registry,
        )  # fmt: skip
        self._scrape_time = ScrapeTimeGauges()
        registry.register(self._scrape_time)

    # ------------------------------------------------------------------ events
    def token_request(self, grant_type: str, outcome: str) -> None:
        """``outcome`` is ``issued`` or the RFC 6749 error code answered."""
        # One labelled child per (grant, outcome), looked up without prometheus-client's lock: the
        # token endpoint's hot path. Both labels come from small fixed sets.
        child = self._token_request_children.get((grant_type, outcome))
        if child is None:
            child = self._token_request_children[(grant_type, outcome)] = self._token_requests.labels(
                grant_type, outcome
            )
        child.inc()

    def login_failure(self, reason: str) -> None:
        self._login_failures.labels(reason).inc()

    def throttle_decision(self, limiter: str, *, throttled: bool) -> None:
        self._throttle.labels(limiter, "throttled" if throttled else "allowed").inc()

    def token_verification_failure(self, reason: str) -> None:
        """Fits ``TokenVerifier(on_failure=...)``."""
        self._verification_failures.labels(reason).inc()

    def jwks_fetch(self, outcome: str) -> None:
        """Fits ``JwksCache(on_fetch=...)``."""
        self._jwks_fetches.labels(outcome).inc()

    def key_rotation(self, trigger: str) -> None:
        self._rotations.labels(trigger).inc()

    def redis_error(self, operation: str) -> None:
        self._redis_errors.labels(operation).inc()

    # ---------------------------------------------------- read at scrape time
    def watch_jwks_age(self, age: Callable[[], float | None]) -> None:
        """``age``: seconds since the issuer last confirmed the cached key set (``None``: never)."""
        self._scrape_time.add(
            "jwks_cache_age_seconds",
            "Seconds since the issuer last confirmed the cached JWKS.",
            single_value(age),
        )

    def watch_signing_key(self, age: Callable[[], float | None], rotation_interval: float | None) -> None:
        """``age``: seconds since the active signing key started signing; the interval is the schedule's.

        Exporting the configured interval lets the "rotation overdue" alert follow the setting.
        """
        self._scrape_time.add(
            "auth_signing_key_age_seconds",
            "Seconds since the active signing key started signing.",
            single_value(age),
        )
        if rotation_interval:
            interval = float(rotation_interval)
            self._scrape_time.add(
                "auth_signing_key_rotation_interval_seconds",
                "The configured automatic rotation interval.",
                single_value(lambda: interval),
            )

    def watch_db_pool(self, stats: Callable[[], tuple[int, int]], max_size: int) -> None:
        """``stats`` gives (connections in use, pool size), as ``PostgresPool.stats`` does."""

        def connections() -> dict[tuple[str, ...], float]:
            in_use, size = stats()
            return {("in_use",): float(in_use), ("idle",): float(size - in_use)}

        self._scrape_time.add(
            "db_pool_connections", "Open pool connections by state.", connections, ("state",)
        )
        self._scrape_time.add(
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
