"""Limits of their own for self-registration (per address), password change (per user) and
introspection (per authenticated client): 429 + ``Retry-After``, problem+json outside OAuth."""

from __future__ import annotations

import httpx

from tests.auth_service import test_throttling_login
from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    AuthClient,
    basic,
)
from tests.auth_service.test_throttling_login import PEER, AuthFactory, assert_throttled, metric

make_auth = test_throttling_login.make_auth  # the fixture, shared with the login tests

STRONG = "a perfectly fine new passphrase"


def assert_problem_429(response: httpx.Response, window: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert 0 < int(response.headers["retry-after"]) <= window
    body = response.json()
    assert body["status"] == 429
    assert body["type"].endswith("/too-many-requests")


def test_registration_is_limited_per_address(make_auth: AuthFactory) -> None:
    auth = make_auth(registration_enabled=True, registration_limit=2, registration_window_seconds=3600)

    def register(email: str, peer: str = PEER, password: str = STRONG) -> httpx.Response:
        return auth.http.post(
            "/api/1/users/", json={"email": email, "password": password}, headers={"x-test-peer": peer}
        )

    assert register("first@example.com").status_code == 201
    assert register("second@example.com", password="password1234").status_code == 422  # counts too
    refused = register("third@example.com")
    assert_problem_429(refused, 3600)
    assert register("third@example.com", peer="198.51.100.200").status_code == 201
    assert auth.login("third@example.com", STRONG)["access_token"]  # 201 above: the refused one made none
    assert metric(auth, "auth_throttle_decisions_total", limiter="registration", decision="throttled") == 1
    assert metric(auth, "auth_throttle_decisions_total", limiter="registration", decision="allowed") == 3


def test_password_change_is_limited_per_user(make_auth: AuthFactory) -> None:
    auth = make_auth(password_change_limit=2, password_change_window_seconds=900)
    auth.create_user(ADMIN_EMAIL, ADMIN_PASSWORD, ["admin"])
    agent = auth.bearer(auth.admin_login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"])
    other = auth.bearer(auth.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])

    def change(headers: dict[str, str], current: str) -> httpx.Response:
        body = {"current_password": current, "new_password": STRONG}
        return auth.http.post("/api/1/users/me/password", json=body, headers=headers)

    assert change(agent, "guess number one").status_code == 403
    assert change(agent, "guess number two").status_code == 403
    assert_problem_429(change(agent, AGENT_PASSWORD), 900)  # the right one is not even checked now
    assert auth.login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"]  # unchanged
    assert change(other, ADMIN_PASSWORD).status_code == 204  # another user has a budget of their own


def test_introspection_is_limited_per_client(make_auth: AuthFactory) -> None:
    auth = make_auth(introspection_limit=2, introspection_window_seconds=60)
    token = auth.login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"]
    first = auth.create_client(client_name="resource server one", resource_server="customers")
    second = auth.create_client(client_name="resource server two", resource_server="customers")

    def introspect(client_id: str, secret: str) -> httpx.Response:
        return auth.http.post("/oauth/introspect", data={"token": token}, headers=basic(client_id, secret))

    # A wrong secret naming the first client does not spend its budget.
    assert introspect(first.client_id, "x" * 43).status_code == 401
    for _ in range(2):
        assert introspect(first.client_id, first.client_secret or "").json()["active"] is True
    wait = assert_throttled(introspect(first.client_id, first.client_secret or ""))
    assert 0 < wait <= 60
    assert introspect(second.client_id, second.client_secret or "").json()["active"] is True


def test_limited_responses_are_documented_in_openapi(auth: AuthClient) -> None:
    paths = auth.http.get("/schema/openapi.json").json()["paths"]
    for path in ("/oauth/token", "/oauth/introspect", "/api/1/users", "/api/1/users/me/password"):
        assert {"429", "503"} <= set(paths[path]["post"]["responses"]), path
