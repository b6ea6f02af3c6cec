"""Every error is RFC 9457 problem+json, from both services, with no internals in the body."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator

import msgspec
import pytest
from litestar import Litestar, get, post
from litestar.testing import TestClient

from auth_service.app import create_app as create_auth_app
from auth_service.settings import AuthSettings
from customer_service.app import create_app as create_customer_app
from customer_service.settings import CustomerSettings
from shared.auth.keys import PreparedKey, StaticKeySource
from shared.http.content_type import require_declared_content_type
from shared.http.observation import observe_requests
from shared.http.problems import problem_details_plugin
from shared.settings import settings_from_values
from tests.shared.auth.token_factory import SigningKey

PROBLEM = "application/problem+json"


@pytest.fixture(params=["auth", "customer"])
def client(
    request: pytest.FixtureRequest, auth_db: str, customer_db: str, redis_url: str, redis_namespace: str
) -> Iterator[TestClient[Litestar]]:
    if request.param == "auth":
        settings = settings_from_values(
            AuthSettings,
            {
                "database_url": auth_db,
                "redis_url": redis_url,
                "redis_prefix": f"{redis_namespace}:problems:",
                "key_encryption_key": secrets.token_urlsafe(32),
                "max_body_bytes": 1024,
            },
            "AUTH_",
        )
        app = create_auth_app(settings)
    else:
        key = PreparedKey.from_jwk(SigningKey.generate("ES256").public_jwk())
        app = create_customer_app(
            settings_from_values(
                CustomerSettings,
                {
                    "database_url": customer_db,
                    "max_body_bytes": 1024,
                    "redis_url": redis_url,
                    "redis_prefix": f"{redis_namespace}:problems:",
                },
            ),
            key_source=StaticKeySource([key]),
        )
    with TestClient(app) as test_client:
        yield test_client


def test_unknown_route_is_404_problem(client: TestClient[Litestar]) -> None:
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 404
    assert response.json()["title"] == "Not Found"
    assert len(response.headers["x-request-id"]) == 32


def test_wrong_method_is_405_with_allow(client: TestClient[Litestar]) -> None:
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert "GET" in response.headers["allow"]


def test_ready_when_database_usable(client: TestClient[Litestar]) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["database"] == "ok"


def test_not_ready_names_the_database() -> None:
    settings = settings_from_values(
        AuthSettings,
        {
            "database_url": "postgresql://postgres@127.0.0.1:1/none",
            "key_encryption_key": secrets.token_urlsafe(32),
        },
        "AUTH_",
    )
    with TestClient(create_auth_app(settings)) as test_client:
        response = test_client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert "database" in response.json()["failing"]


class Payload(msgspec.Struct):
    name: str
    count: int


@post("/echo")
async def echo(data: Payload) -> Payload:
    return data


@get("/boom")
async def boom() -> None:
    raise RuntimeError("SELECT secret FROM internals")


@pytest.fixture
def bare_client() -> Iterator[TestClient[Litestar]]:
    """The shared error model on a minimal app, to reach paths the services do not expose yet."""
    app = Litestar(
        [echo, boom],
        plugins=[problem_details_plugin()],
        before_request=require_declared_content_type,
        request_max_body_size=256,
    )
    observe_requests(app)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_body_too_large_is_413(bare_client: TestClient[Litestar]) -> None:
    response = bare_client.post(
        "/echo", content=b'{"name": "' + b"x" * 1000 + b'"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


def test_wrong_media_type_is_415(bare_client: TestClient[Litestar]) -> None:
    response = bare_client.post(
        "/echo", content=b"name=a&count=1", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["accept"] == "application/json"


def test_invalid_fields_are_listed(bare_client: TestClient[Litestar]) -> None:
    response = bare_client.post("/echo", json={"name": 5, "count": "many"})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields & {"name", "count"}


def test_unhandled_error_is_500_without_internals(
    bare_client: TestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = bare_client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "SELECT" not in response.text
    assert "Traceback" not in response.text
    request_id = response.headers["x-request-id"]
    assert response.json()["requestId"] == request_id
    assert any("SELECT secret" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_caller_request_id_is_kept_when_well_formed(bare_client: TestClient[Litestar]) -> None:
    assert (
        bare_client.get("/boom", headers={"x-request-id": "trace-abc-123"}).headers["x-request-id"]
        == "trace-abc-123"
    )
    assert bare_client.get("/boom", headers={"x-request-id": "bad id!"}).headers["x-request-id"] != "bad id!"


def test_oversized_headers_are_431() -> None:
    from shared.http.limits import install_header_limit

    app = Litestar([echo], plugins=[problem_details_plugin()])
    install_header_limit(app, 1024)
    with TestClient(app) as test_client:
        response = test_client.post("/echo", json={"name": "a", "count": 1}, headers={"x-big": "a" * 2000})
        assert response.status_code == 431
        assert response.headers["content-type"] == PROBLEM
        assert test_client.post("/echo", json={"name": "a", "count": 1}).status_code == 201
