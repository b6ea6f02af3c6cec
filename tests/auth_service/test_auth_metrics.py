"""The auth service's own metric families: they move with events and are all declared."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from auth_service.metrics import AUTH_METRIC_NAMES, GRANT_TYPES, AuthMetrics
from shared.metrics import metrics_handlers
from tests.shared.test_metrics import value


def _scrape(metrics: AuthMetrics) -> str:
    with TestClient(Litestar(metrics_handlers(metrics))) as client:
        return client.get("/metrics").text


def test_auth_events_move_their_counters() -> None:
    metrics = AuthMetrics("auth-test", version="1.2.3")
    before = _scrape(metrics)
    for grant in GRANT_TYPES:  # present from the start, so rate() sees the first issuance
        assert value(before, "auth_token_requests_total", grant_type=grant, outcome="issued") == 0
    metrics.token_request("password", "issued")
    metrics.token_request("password", "invalid_grant")
    metrics.login_failure("invalid_credentials")
    metrics.throttle_decision("login", throttled=True)
    metrics.throttle_decision("login", throttled=False)
    metrics.key_rotation("api")
    text = _scrape(metrics)
    assert value(text, "auth_token_requests_total", grant_type="password", outcome="issued") == 1
    assert value(text, "auth_token_requests_total", grant_type="password", outcome="invalid_grant") == 1
    assert value(text, "auth_login_failures_total", reason="invalid_credentials") == 1
    assert value(text, "auth_throttle_decisions_total", limiter="login", decision="throttled") == 1
    assert value(text, "auth_throttle_decisions_total", limiter="login", decision="allowed") == 1
    assert value(text, "auth_signing_key_rotations_total", trigger="api") == 1
    assert value(text, "service_build_info", service="auth-test", version="1.2.3") == 1


def test_signing_key_gauges_read_the_live_values() -> None:
    metrics = AuthMetrics()
    metrics.watch_signing_key(lambda: 86_400.0, rotation_interval=30 * 86_400)
    text = _scrape(metrics)
    assert value(text, "auth_signing_key_age_seconds") == 86_400
    assert value(text, "auth_signing_key_rotation_interval_seconds") == 30 * 86_400


def test_every_declared_auth_metric_is_exposed_once_watched() -> None:
    metrics = AuthMetrics()
    metrics.watch_signing_key(lambda: 1.0, rotation_interval=60)
    metrics.login_failure("x")
    metrics.throttle_decision("x", throttled=False)
    metrics.key_rotation("x")
    exposed = {family.name for family in text_string_to_metric_families(_scrape(metrics))}
    declared = {name.removesuffix("_total") for name in AUTH_METRIC_NAMES}
    assert declared <= exposed, declared - exposed
