"""Redis away while the auth service serves: ``AUTH_THROTTLE_FAIL_MODE`` decides (closed: 503 +
``Retry-After``; open: unthrottled), the outage is logged and counted, and the service recovers by
itself when Redis returns. The test owns the Redis it stops (never the shared one)."""

from __future__ import annotations

import logging
import signal
import time

import httpx
import pytest

from devstack.embedded import EmbeddedRedis
from tests.auth_service import test_throttling_login
from tests.auth_service.conftest import AGENT_PASSWORD, AuthClient
from tests.auth_service.test_throttling_login import AuthFactory, attempt, metric
from tests.auth_service.test_token_grants import assert_oauth_error

make_auth = test_throttling_login.make_auth  # the fixture, shared with the login tests

STORE_LOGGER = "auth_service.throttling.store"
STRONG = "a perfectly fine new passphrase"


def register(auth: AuthClient, email: str) -> httpx.Response:
    return auth.http.post("/api/1/users/", json={"email": email, "password": STRONG})


def test_fail_closed_refuses_until_redis_returns(
    make_auth: AuthFactory, own_redis: EmbeddedRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=STORE_LOGGER)
    auth = make_auth(redis_url=own_redis.url, registration_enabled=True)
    assert attempt(auth, password=AGENT_PASSWORD).status_code == 200
    own_redis.stop()

    started = time.perf_counter()
    refused = attempt(auth, password=AGENT_PASSWORD)  # the right password: still no way in
    assert time.perf_counter() - started < 5  # short throttling timeouts: no hanging request
    assert_oauth_error(refused, 503, "temporarily_unavailable")
    assert refused.headers["retry-after"] == "2"
    assert_oauth_error(attempt(auth), 503, "temporarily_unavailable")
    registration = register(auth, "newcomer@example.com")
    assert registration.status_code == 503
    assert registration.headers["content-type"] == "application/problem+json"
    assert registration.headers["retry-after"] == "2"
    assert registration.json()["type"].endswith("/throttling-unavailable")
    assert metric(auth, "redis_errors_total", operation="throttle") == 3
    assert metric(auth, "auth_throttle_decisions_total", limiter="login_ip", decision="throttled") == 2
    outage_logs = [r for r in caplog.records if r.name == STORE_LOGGER and r.levelno == logging.ERROR]
    assert len(outage_logs) == 1  # logged once per outage, counted every time

    own_redis.start()  # same port: redis-py reconnects on its own
    assert attempt(auth, password=AGENT_PASSWORD).status_code == 200
    assert register(auth, "newcomer@example.com").status_code == 201
    assert any("answers again" in r.getMessage() for r in caplog.records if r.name == STORE_LOGGER)
    assert_oauth_error(attempt(auth), 400, "invalid_grant")  # counted again


def test_fail_open_serves_unthrottled_while_redis_is_away(
    make_auth: AuthFactory, own_redis: EmbeddedRedis
) -> None:
    auth = make_auth(
        redis_url=own_redis.url, throttle_fail_mode="open", registration_enabled=True, login_ip_max_failures=2
    )
    own_redis.stop()
    for _ in range(7):  # past both the account threshold and the address limit: nothing counts
        assert_oauth_error(attempt(auth), 400, "invalid_grant")
    assert attempt(auth, password=AGENT_PASSWORD).status_code == 200
    assert register(auth, "newcomer@example.com").status_code == 201
    assert metric(auth, "redis_errors_total", operation="throttle") == 9
    assert metric(auth, "auth_throttle_decisions_total", limiter="login_account", decision="allowed") == 8
    assert metric(auth, "auth_throttle_decisions_total", limiter="login_account", decision="throttled") == 0


def test_a_hung_redis_costs_a_request_at_most_the_throttling_timeout(
    make_auth: AuthFactory, own_redis: EmbeddedRedis
) -> None:
    """SIGSTOP: Redis's port still accepts connections but nothing answers (a stuck server or a
    black-holed network), the case where only the client's timeouts keep requests from hanging."""
    auth = make_auth(redis_url=own_redis.url, throttle_redis_timeout=0.3)
    assert attempt(auth, password=AGENT_PASSWORD).status_code == 200
    assert own_redis.process is not None
    own_redis.process.send_signal(signal.SIGSTOP)
    try:
        started = time.perf_counter()
        refused = attempt(auth, password=AGENT_PASSWORD)
        elapsed = time.perf_counter() - started
    finally:
        own_redis.process.send_signal(signal.SIGCONT)
    assert_oauth_error(refused, 503, "temporarily_unavailable")
    assert 0.3 <= elapsed < 2.0, elapsed  # one timeout and one retry's, not redis-py's default schedule
    assert attempt(auth, password=AGENT_PASSWORD).status_code == 200
