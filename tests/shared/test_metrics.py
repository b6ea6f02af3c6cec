"""``/metrics`` as Prometheus sees it: series move when requests and events happen."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
from litestar import Litestar, get
from litestar.middleware import DefineMiddleware
from litestar.params import FromPath
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from shared.auth.keys import StaticKeySource
from shared.auth.litestar import BearerAuthMiddleware
from shared.auth.verifier import TokenVerifier
from shared.db.pool import PostgresPool
from shared.http.observation import observe_requests
from shared.http.problems import problem_details_plugin
from shared.metrics import (
    METRIC_NAMES,
    RequestDurations,
    ServiceMetrics,
    metrics_handlers,
)

DURATION = "http_server_request_duration_seconds"


@get("/items/{item_id:int}", sync_to_thread=False)
def item(item_id: FromPath[int]) -> dict[str, int]:
    return {"id": item_id}


@get("/boom", sync_to_thread=False)
def boom() -> None:
    raise RuntimeError("handler bug")


@get("/public", opt={"exclude_from_auth": True}, sync_to_thread=False)
def public() -> str:
    return "ok"


def build_app(metrics: ServiceMetrics, *, with_auth: bool = False) -> Litestar:
    middleware = []
    if with_auth:
        verifier = TokenVerifier(
            StaticKeySource([]),
            issuer="http://issuer.test",
            audience="customers",
            on_failure=metrics.token_verification_failure,
        )
        middleware = [DefineMiddleware(BearerAuthMiddleware, verifier=verifier, realm="customers")]
    app = Litestar(
        [item, boom, public, *metrics_handlers(metrics)],
        middleware=middleware,
        plugins=[problem_details_plugin()],
        logging_config=None,
    )
    observe_requests(app, metrics.requests)
    return app


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, keyed by (name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, frozenset(labels.items())))


@pytest.fixture
def metrics() -> ServiceMetrics:
    return ServiceMetrics("test-service", version="1.2.3")


@pytest.fixture
def client(metrics: ServiceMetrics) -> Iterator[TestClient[Litestar]]:
    with TestClient(build_app(metrics)) as test_client:
        yield test_client


def test_requests_are_counted_by_route_template_method_and_status(client: TestClient[Litestar]) -> None:
    for item_id in (1, 2, 3):
        assert client.get(f"/items/{item_id}").status_code == 200
    text = client.get("/metrics").text
    route = "/items/{item_id}"
    assert value(text, f"{DURATION}_count", method="GET", route=route, status="200") == 3
    assert value(text, f"{DURATION}_bucket", method="GET", route=route, status="200", le="+Inf") == 3
    assert "/items/1" not in text  # raw paths would be one series per id


def test_unknown_routes_methods_and_errors_cannot_create_series(client: TestClient[Litestar]) -> None:
    assert client.get("/no/such/path/123").status_code == 404
    assert client.get("/other/unknown/path").status_code == 404
    assert client.request("BREW", "/items/1").status_code == 405
    assert client.get("/boom").status_code == 500
    text = client.get("/metrics").text
    assert value(text, f"{DURATION}_count", method="GET", route="unmatched", status="404") == 2
    assert value(text, f"{DURATION}_count", method="OTHER", route="unmatched", status="405") == 1
    assert value(text, f"{DURATION}_count", method="GET", route="/boom", status="500") == 1
    assert "/no/such/path" not in text
    assert "BREW" not in text


def test_metrics_endpoint_is_outside_auth_and_the_schema(metrics: ServiceMetrics) -> None:
    app = build_app(metrics, with_auth=True)
    assert "/metrics" not in (app.openapi_schema.paths or {})
    assert "/items/{item_id}" in (app.openapi_schema.paths or {})
    with TestClient(app) as client:
        assert client.get("/items/1").status_code == 401
        assert client.get("/items/1", headers={"Authorization": "Bearer bm90.YQ.dG9rZW4"}).status_code == 401
        response = client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=")
    text = response.text
    assert value(text, f"{DURATION}_count", method="GET", route="/items/{item_id}", status="401") == 2
    assert value(text, "token_verification_failures_total", reason="malformed") == 1


def test_openmetrics_is_served_when_the_scraper_asks(client: TestClient[Litestar]) -> None:
    response = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


def test_histogram_buckets_are_cumulative_with_sum() -> None:
    durations = RequestDurations(buckets=(0.01, 0.1, 1.0))
    for seconds in (0.005, 0.01, 0.05, 0.5, 3.0):
        durations.observe("GET", "/r", 200, seconds)
    (family,) = durations.collect()
    by_name = {(s.name, s.labels.get("le")): s.value for s in family.samples}
    assert by_name[(f"{DURATION}_bucket", "0.01")] == 2  # le is inclusive
    assert by_name[(f"{DURATION}_bucket", "0.1")] == 3
    assert by_name[(f"{DURATION}_bucket", "1.0")] == 4
    assert by_name[(f"{DURATION}_bucket", "+Inf")] == 5
    assert by_name[(f"{DURATION}_count", None)] == 5
    assert math.isclose(by_name[(f"{DURATION}_sum", None)], 3.565)


def test_domain_events_move_their_counters(metrics: ServiceMetrics, client: TestClient[Litestar]) -> None:
    metrics.jwks_fetch("updated")
    metrics.redis_error("revocation_publish")
    text = client.get("/metrics").text
    assert value(text, "jwks_fetches_total", outcome="updated") == 1
    assert value(text, "redis_errors_total", operation="revocation_publish") == 1
    assert value(text, "service_build_info", service="test-service", version="1.2.3") == 1


def test_scrape_time_gauges_read_the_live_values(
    metrics: ServiceMetrics, client: TestClient[Litestar]
) -> None:
    jwks_age: list[float | None] = [None]
    pool = [3, 5]
    metrics.watch_jwks_age(lambda: jwks_age[0])
    metrics.watch_db_pool(lambda: (pool[0], pool[1]), max_size=10)
    text = client.get("/metrics").text
    assert "jwks_cache_age_seconds " not in text  # never loaded: no made-up age
    assert value(text, "db_pool_connections", state="in_use") == 3
    assert value(text, "db_pool_connections", state="idle") == 2
    assert value(text, "db_pool_max_connections") == 10
    jwks_age[0], pool[0] = 42.5, 5
    text = client.get("/metrics").text
    assert value(text, "jwks_cache_age_seconds") == 42.5
    assert value(text, "db_pool_connections", state="idle") == 0


async def test_dependency_checks_run_on_each_scrape(customer_db: str, redis_url: str) -> None:
    metrics = ServiceMetrics("test-service")
    live = PostgresPool(customer_db, min_size=1, max_size=2)
    down = PostgresPool("postgresql://nobody@127.0.0.1:9/none", min_size=1, max_size=1, timeout=0.5)
    redis = Redis.from_url(redis_url)

    async def redis_answers() -> bool:
        return bool(await redis.ping())

    async def hangs() -> bool:
        await asyncio.sleep(30)
        return True

    checks = {"database": live.is_ready, "redis": redis_answers, "replica": down.is_ready, "slow": hangs}
    app = Litestar(metrics_handlers(metrics, checks, check_seconds=1.0), logging_config=None)
    try:
        # In this event loop (the pools belong to it), as uvicorn would call the app.
        transport = httpx.ASGITransport(app=cast(Any, app))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            text = (await client.get("/metrics")).text
    finally:
        await live.close()
        await redis.aclose()
    assert value(text, "service_dependency_up", dependency="database") == 1
    assert value(text, "service_dependency_up", dependency="redis") == 1
    assert value(text, "service_dependency_up", dependency="replica") == 0
    assert value(text, "service_dependency_up", dependency="slow") == 0


def test_each_app_has_its_own_registry() -> None:
    first, second = ServiceMetrics("a", version="1"), ServiceMetrics("b", version="1")
    with TestClient(build_app(first)) as one, TestClient(build_app(second)) as two:
        one.get("/items/1")
        first_text, second_text = one.get("/metrics").text, two.get("/metrics").text
    labels = {"method": "GET", "route": "/items/{item_id}", "status": "200"}
    assert value(first_text, f"{DURATION}_count", **labels) == 1
    assert value(second_text, f"{DURATION}_count", **labels) is None
    assert value(second_text, "service_build_info", service="b", version="1") == 1
    assert value(second_text, "service_build_info", service="a", version="1") is None


def test_every_declared_metric_is_exposed_once_watched(metrics: ServiceMetrics) -> None:
    """The dashboard and alerts are checked against ``METRIC_NAMES``; it must match what is served."""
    metrics.watch_jwks_age(lambda: 1.0)
    metrics.watch_revocation_feed_age(lambda: 1.0)
    metrics.watch_db_pool(lambda: (0, 0), max_size=1)
    metrics.requests.observe("GET", "/r", 200, 0.1)
    for event in (
        metrics.token_verification_failure,
        metrics.jwks_fetch,
        metrics.redis_error,
        metrics.revocation_event,
    ):
        event("x")
    metrics.revocation_feed_error()
    with TestClient(Litestar(metrics_handlers(metrics, {"database": _ok}))) as client:
        text = client.get("/metrics").text
    exposed = {family.name for family in text_string_to_metric_families(text)}
    declared = {name.removesuffix("_total") for name in METRIC_NAMES}
    assert declared <= exposed, declared - exposed


async def _ok() -> bool:
    return True
