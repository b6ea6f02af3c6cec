"""Login throttling on ``POST /oauth/token`` (real Redis): the per-account progressive lock and the
per-address failure limit, as a client sees them (status, ``Retry-After``, body)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any, cast

import httpx
import pytest
from litestar import Litestar
from litestar.enums import ScopeType
from litestar.testing import TestClient
from litestar.types import ASGIApp, Receive, Scope, Send
from prometheus_client.parser import text_string_to_metric_families

from auth_service.app import app_for
from auth_service.wiring import AuthServices, build_services
from tests.auth_service.conftest import AGENT_EMAIL, AGENT_PASSWORD, AuthClient, SettingsFactory
from tests.auth_service.test_token_grants import assert_oauth_error, password_form

PEER = "198.51.100.7"
GHOST = "nobody.at.all@example.com"
WRONG = "not the right password at all"


class PeerFromHeader:
    """Litestar's test transport always says the peer is ``testclient``; this sets the ASGI peer
    address from an ``x-test-peer`` header, as a server would from the TCP connection."""

    def __init__(self, app: Litestar) -> None:
        self.app: ASGIApp = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            peer = dict(scope["headers"]).get(b"x-test-peer")
            if peer is not None:
                scope = cast(Scope, {**scope, "client": (peer.decode(), 50000)})
        await self.app(scope, receive, send)


class PeerAuthClient(AuthClient):
    def __init__(self, client: TestClient[PeerFromHeader], app: Litestar, services: AuthServices) -> None:
        super().__init__(cast(TestClient[Litestar], client), services)
        self._app = app

    @property
    def app(self) -> Litestar:
        return self._app


AuthFactory = Callable[..., AuthClient]


@pytest.fixture
def make_auth(make_settings: SettingsFactory, redis_namespace: str) -> Iterator[AuthFactory]:
    """Apps whose requests may name their peer address (``x-test-peer``), on one database with the
    agent in it; each app counts under a Redis prefix of its own. Settings are overridable."""
    with ExitStack() as stack:
        seeded: list[bool] = []

        def make(**overrides: Any) -> AuthClient:
            prefix = f"{redis_namespace}:{secrets.token_hex(4)}:auth:"
            services = build_services(make_settings(**{"redis_prefix": prefix, **overrides}))
            app = app_for(services)
            client = stack.enter_context(TestClient(PeerFromHeader(app)))
            auth = PeerAuthClient(client, app, services)
            if not seeded:
                auth.create_user(AGENT_EMAIL, AGENT_PASSWORD, ["agent"])
                seeded.append(True)
            return auth

        yield make


def attempt(
    auth: AuthClient, email: str = AGENT_EMAIL, password: str = WRONG, peer: str = PEER, **headers: str
) -> httpx.Response:
    return auth.token(password_form(email=email, password=password), headers={"x-test-peer": peer, **headers})


def fail(auth: AuthClient, times: int, email: str = AGENT_EMAIL, peer: str = PEER) -> None:
    for _ in range(times):
        assert_oauth_error(attempt(auth, email, peer=peer), 400, "invalid_grant")


def assert_throttled(response: httpx.Response) -> int:
    """429 in RFC 6749's JSON (``slow_down``) that also carries RFC 9457's members; the wait in s."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == "slow_down"
    assert body["status"] == 429
    assert body["title"] == "Too Many Requests"
    assert body["type"].endswith("/too-many-requests")
    assert body["detail"] == body["error_description"]
    assert "access_token" not in body
    return int(response.headers["retry-after"])


def metric(auth: AuthClient, name: str, **labels: str) -> float:
    text = auth.http.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


# ---------------------------------------------------------------- per account
def test_lock_doubles_after_the_threshold_and_stops_at_the_cap(make_auth: AuthFactory) -> None:
    auth = make_auth(login_lockout_max_seconds=2)
    fail(auth, 5)  # the fifth failure locks for 2^0 = 1 s
    assert assert_throttled(attempt(auth)) == 1
    time.sleep(1.1)
    fail(auth, 1)  # the sixth: 2^1 = 2 s
    assert assert_throttled(attempt(auth)) == 2
    time.sleep(2.1)
    fail(auth, 1)  # the seventh would be 4 s; the cap keeps it at 2
    assert assert_throttled(attempt(auth)) == 2
    assert metric(auth, "auth_throttle_decisions_total", limiter="login_account", decision="throttled") == 3
    assert metric(auth, "auth_token_requests_total", grant_type="password", outcome="slow_down") == 3


def test_lock_looks_the_same_for_unknown_and_known_accounts(make_auth: AuthFactory) -> None:
    auth = make_auth()
    fail(auth, 5, AGENT_EMAIL)
    fail(auth, 5, GHOST)
    known, unknown = attempt(auth, AGENT_EMAIL), attempt(auth, GHOST)
    assert assert_throttled(known) == assert_throttled(unknown) == 1
    assert known.json() == unknown.json()
    differing = {
        name
        for name in {*known.headers, *unknown.headers}
        if known.headers.get(name) != unknown.headers.get(name)
    }
    assert differing == {"x-request-id"}


def test_right_password_during_a_lock_does_not_log_in_and_costs_no_hashing(make_auth: AuthFactory) -> None:
    auth = make_auth()
    fail(auth, 5)
    failures = metric(auth, "auth_login_failures_total", reason="wrong_password")
    assert assert_throttled(attempt(auth, password=AGENT_PASSWORD)) == 1
    # The refused attempt never reached the password check (it would count as a failure or a login).
    assert metric(auth, "auth_login_failures_total", reason="wrong_password") == failures
    time.sleep(1.1)
    assert attempt(auth, password=AGENT_PASSWORD).status_code == 200


def test_a_success_clears_the_failures(make_auth: AuthFactory) -> None:
    auth = make_auth()
    fail(auth, 4)
    assert attempt(auth, password=AGENT_PASSWORD).status_code == 200
    fail(auth, 4)  # without the reset this would be the ninth failure in a row, long locked
    assert attempt(auth, password=AGENT_PASSWORD).status_code == 200


def test_a_quiet_period_clears_the_failures(make_auth: AuthFactory) -> None:
    auth = make_auth(login_lockout_reset_seconds=1)
    fail(auth, 5)
    assert_throttled(attempt(auth))
    time.sleep(2.1)  # the 1 s lock, then 1 s without failures
    fail(auth, 4)  # counted from one again: the fourth does not lock
    assert attempt(auth).status_code == 400


def test_case_and_unicode_variants_of_an_email_share_one_lock(make_auth: AuthFactory) -> None:
    auth = make_auth()
    local, domain = AGENT_EMAIL.split("@")
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isalpha() else c for c in local)  # NFKC folds these
    for variant in [AGENT_EMAIL.upper(), local.title() + "@" + domain.upper(), full_width + "@" + domain,
                    f"  {AGENT_EMAIL}  ", AGENT_EMAIL.capitalize()]:  # fmt: skip
        assert_oauth_error(attempt(auth, variant), 400, "invalid_grant")
    assert_throttled(attempt(auth, AGENT_EMAIL, password=AGENT_PASSWORD))


# ---------------------------------------------------------------- per source address
def test_failures_from_one_address_are_limited_whatever_the_account(make_auth: AuthFactory) -> None:
    auth = make_auth(login_ip_max_failures=3, login_ip_window_seconds=60)
    for _ in range(2):  # successes are not failures
        assert attempt(auth, password=AGENT_PASSWORD).status_code == 200
    for n in range(3):
        assert_oauth_error(attempt(auth, f"ghost{n}@example.com"), 400, "invalid_grant")
    wait = assert_throttled(attempt(auth, password=AGENT_PASSWORD))  # even the right password
    assert 55 <= wait <= 60
    assert attempt(auth, password=AGENT_PASSWORD, peer="198.51.100.8").status_code == 200
    assert metric(auth, "auth_throttle_decisions_total", limiter="login_ip", decision="throttled") == 1


def test_an_ipv6_client_is_counted_by_its_slash_64(make_auth: AuthFactory) -> None:
    auth = make_auth(login_ip_max_failures=2)
    assert_oauth_error(attempt(auth, peer="2001:db8:1:2::1"), 400, "invalid_grant")
    assert_oauth_error(attempt(auth, GHOST, peer="2001:db8:1:2:ffff::9"), 400, "invalid_grant")
    assert_throttled(attempt(auth, password=AGENT_PASSWORD, peer="2001:db8:1:2::abcd"))
    assert attempt(auth, password=AGENT_PASSWORD, peer="2001:db8:1:3::1").status_code == 200


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(make_auth: AuthFactory) -> None:
    untrusting = make_auth(login_ip_max_failures=2)
    for n in range(2):  # a client rotating X-Forwarded-For stays one address
        assert_oauth_error(
            attempt(untrusting, GHOST, **{"x-forwarded-for": f"203.0.113.{n}"}), 400, "invalid_grant"
        )
    assert_throttled(attempt(untrusting, **{"x-forwarded-for": "203.0.113.99"}))

    behind_proxy = make_auth(login_ip_max_failures=2, trusted_proxies=["10.0.0.0/8"])
    proxy = "10.1.2.3"
    for n in range(2):  # the client wrote the left entry itself; the proxy appended the right one
        forwarded = f"192.0.2.{n}, 203.0.113.1, 10.9.9.9"
        assert_oauth_error(attempt(behind_proxy, GHOST, peer=proxy, **{"x-forwarded-for": forwarded}), 400,
                           "invalid_grant")  # fmt: skip
    assert_throttled(attempt(behind_proxy, peer=proxy, **{"x-forwarded-for": "203.0.113.1"}))
    other_client = attempt(
        behind_proxy, password=AGENT_PASSWORD, peer=proxy, **{"x-forwarded-for": "203.0.113.2"}
    )
    assert other_client.status_code == 200
