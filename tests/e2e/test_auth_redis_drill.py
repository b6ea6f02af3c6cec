"""Throttling drills on real auth service processes and a Redis the test owns (never the shared one).

Replicas share every limit through Redis (failures on one count on the other; real source
addresses, bound with ``local_address``); then Redis is killed: the fail-closed replica answers
503 + ``Retry-After`` at once, a fail-open one keeps serving, and both recover by themselves when
Redis comes back on the same port.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devstack.embedded import EmbeddedRedis
from tests.auth_service.conftest import new_kek
from tests.ecosystem import bootstrap_admin
from tests.processes import ServiceProcess

pytestmark = pytest.mark.e2e

ADMIN = ("drill.admin@example.com", "a drill passphrase of some length")
GHOST = "no.such.account@example.com"


class Drill:
    def __init__(self, database_url: str, redis: EmbeddedRedis, namespace: str, log_dir: Path) -> None:
        self.redis = redis
        self.base = {
            "AUTH_DATABASE_URL": database_url,
            "AUTH_REDIS_URL": redis.url,
            "AUTH_KEY_ENCRYPTION_KEY": new_kek(),
            "AUTH_ARGON2_MEMORY_KIB": "1024",
            "AUTH_ARGON2_TIME_COST": "1",
            "AUTH_BOOTSTRAP_ADMIN_EMAIL": ADMIN[0],
            "AUTH_BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1],
        }
        self.namespace = namespace
        self.log_dir = log_dir
        self.processes: list[ServiceProcess] = []
        bootstrap_admin(self.base)

    def replicas(self, *envs: dict[str, str]) -> list[ServiceProcess]:
        """Start one process per ``envs`` (in parallel); a replica names its Redis prefix itself."""
        made = [
            ServiceProcess("auth_service", {**self.base, **env, "AUTH_LOG_LEVEL": "info"}, self.log_dir)
            for env in envs
        ]
        self.processes += made
        with ThreadPoolExecutor(len(made)) as pool:
            return list(pool.map(lambda process: process.start(), made))

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


@pytest.fixture
def drill(auth_db: str, redis_namespace: str, tmp_path: Path) -> Iterator[Drill]:
    redis = EmbeddedRedis()
    redis.start()
    try:
        drill = Drill(auth_db, redis, redis_namespace, tmp_path)
        try:
            yield drill
        finally:
            drill.stop()
    finally:
        redis.stop()


def login(service: ServiceProcess, email: str, password: str, source: str = "127.0.0.1") -> httpx.Response:
    form = {"grant_type": "password", "client_id": "first-party", "username": email, "password": password}
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=service.url, transport=transport, timeout=15) as http:
        return http.post("/oauth/token", data=form)


def metric(service: ServiceProcess, name: str, **labels: str) -> float:
    text = httpx.get(service.url + "/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def test_replicas_share_the_account_lock_and_the_address_limit(drill: Drill) -> None:
    shared = {"AUTH_REDIS_PREFIX": f"{drill.namespace}:drill-shared:", "AUTH_LOGIN_IP_MAX_FAILURES": "6"}
    one, two = drill.replicas(shared, shared)
    for replica in (one, two, one, two, one):  # five failures of one account, spread over both
        assert login(replica, GHOST, "wrong guess").status_code == 400
    locked = login(two, GHOST, "wrong guess")
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "1"
    assert locked.json()["error"] == "slow_down"

    # 127.0.0.2 is another real source address: its failures are its own, across replicas.
    for n in range(6):
        replica = (one, two)[n % 2]
        assert login(replica, f"guess{n}@example.com", "wrong guess", source="127.0.0.2").status_code == 400
    assert login(one, *ADMIN, source="127.0.0.2").status_code == 429
    assert login(two, *ADMIN, source="127.0.0.3").status_code == 200


def test_redis_killed_then_restarted(drill: Drill) -> None:
    closed, open_ = drill.replicas(
        {"AUTH_REDIS_PREFIX": f"{drill.namespace}:drill-closed:"},
        {"AUTH_REDIS_PREFIX": f"{drill.namespace}:drill-open:", "AUTH_THROTTLE_FAIL_MODE": "open"},
    )
    assert login(closed, *ADMIN).status_code == 200
    drill.redis.kill()

    started = time.monotonic()
    refused = login(closed, *ADMIN)
    assert time.monotonic() - started < 3  # AUTH_THROTTLE_REDIS_TIMEOUT: nothing hangs
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "2"
    assert refused.json()["error"] == "temporarily_unavailable"
    assert login(open_, *ADMIN).status_code == 200
    assert login(open_, GHOST, "wrong guess").status_code == 400
    assert metric(closed, "redis_errors_total", operation="throttle") >= 1
    assert metric(open_, "redis_errors_total", operation="throttle") >= 2
    assert "throttling: Redis did not answer" in closed.log()

    drill.redis.start()  # same port, empty: redis-py reconnects by itself
    deadline = time.monotonic() + 10
    statuses = []
    while time.monotonic() < deadline:
        statuses = [login(replica, *ADMIN).status_code for replica in (closed, open_)]
        if statuses == [200, 200]:
            break
        time.sleep(0.2)
    assert statuses == [200, 200]
    assert "throttling: Redis answers again" in closed.log()
