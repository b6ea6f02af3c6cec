"""/metrics on the real services, started as processes: counters move when requests happen."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.processes import ServiceProcess

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(service: ServiceProcess) -> Samples:
    response = httpx.get(f"{service.url}/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def services(
    auth_db: str, customer_db: str, redis_url: str, redis_namespace: str, tmp_path: Path
) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    auth = ServiceProcess(
        "auth_service",
        {
            "AUTH_DATABASE_URL": auth_db,
            "AUTH_REDIS_URL": redis_url,
            "AUTH_REDIS_PREFIX": f"{redis_namespace}:metrics:",
            "AUTH_KEY_ENCRYPTION_KEY": secrets.token_urlsafe(32),
        },
        tmp_path,
    )
    auth.start()  # before choosing the customer's port: a free port is only free until bound
    customer = ServiceProcess(
        "customer_service",
        {
            "CUSTOMER_DATABASE_URL": customer_db,
            "CUSTOMER_ISSUER": auth.url,
            "CUSTOMER_REDIS_URL": redis_url,
            "CUSTOMER_REDIS_PREFIX": f"{redis_namespace}:metrics:",
        },
        tmp_path,
    )
    try:
        customer.start()
        yield auth, customer
    finally:
        customer.stop()
        auth.stop()


def test_metrics_move_with_requests_on_both_services(services: tuple[ServiceProcess, ServiceProcess]) -> None:
    auth, customer = services
    token_route = {"method": "POST", "route": "/oauth/token", "status": "400"}
    customer_route = {"method": "GET", "route": "/api/1/customers/{cpf}", "status": "401"}
    auth_before, customer_before = scrape(auth), scrape(customer)

    for _ in range(3):
        response = httpx.post(
            f"{auth.url}/oauth/token",
            data={
                "grant_type": "password",
                "username": "nobody@example.com",
                "password": "wrong password 123",
            },
        )
        assert response.status_code in (400, 401)
    bad_token = {"Authorization": "Bearer bm90.YQ.dG9rZW4"}
    for _ in range(2):
        assert httpx.get(f"{customer.url}/api/1/customers/52998224725", headers=bad_token).status_code == 401
    assert httpx.get(f"{customer.url}/api/1/customers/52998224725").status_code == 401

    auth_after, customer_after = scrape(auth), scrape(customer)
    count = "http_server_request_duration_seconds_count"
    token_calls = sum(
        value(auth_after, count, **{**token_route, "status": status})
        - value(auth_before, count, **{**token_route, "status": status})
        for status in ("400", "401")
    )
    assert token_calls == 3
    assert (
        value(customer_after, count, **customer_route) - value(customer_before, count, **customer_route) == 3
    )
    failures = "token_verification_failures_total"
    assert (
        value(customer_after, failures, reason="malformed")
        - value(customer_before, failures, reason="malformed")
        == 2
    )
    assert "52998224725" not in str(list(customer_after)), "raw paths are never labels"

    assert value(auth_after, "service_dependency_up", dependency="database") == 1
    assert value(auth_after, "service_dependency_up", dependency="redis") == 1
    assert value(customer_after, "service_dependency_up", dependency="database") == 1
    assert value(auth_after, "service_build_info", service="auth-service", version=_version(auth_after)) == 1
    assert 0 <= value(auth_after, "auth_signing_key_age_seconds") < 600, "a fresh key signs"
    assert ("jwks_cache_age_seconds", frozenset()) in customer_after, "keys loaded: readiness passed"
    assert value(customer_after, "jwks_fetches_total", outcome="updated") >= 1
    assert value(auth_after, "db_pool_max_connections") >= 1


def _version(samples: Samples) -> str:
    (labels,) = [dict(labels) for name, labels in samples if name == "service_build_info"]
    return labels["version"]
