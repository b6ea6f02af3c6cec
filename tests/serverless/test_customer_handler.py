"""The customer API's Lambda function, invoked with API Gateway HTTP API events (payload 2.0,
JWT authorizer context included) on real PostgreSQL and Redis, its keys from a real issuer over
HTTP: the same routes, problem bodies and scope rules as the long-running service, started once
per environment, with nothing left to run in the background between invocations."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from redis.asyncio import Redis

from customer_service.lambda_handler import build_handler
from customer_service.settings import CustomerSettings
from tests.customer_service.conftest import settings_for
from tests.customer_service.factories import customer
from tests.serverless.conftest import EnvironmentFactory
from tests.serverless.lambda_events import LambdaEnvironment, http_event
from tests.shared.auth.jwks_server import JwksServer
from tests.shared.auth.revocation_stream import publish, revocation
from tests.shared.auth.token_factory import SigningKey, claims, jwks, login_claims

KEY = SigningKey.generate("RS256", kid="lambda-rs256")
BASE = "/api/1/customers"
JSON = {"content-type": "application/json"}


@pytest.fixture
def issuer() -> Iterator[JwksServer]:
    server = JwksServer()
    server.serve_issuer(jwks(KEY))
    with server.running():
        yield server


def token(issuer: JwksServer, scope: str, key: SigningKey = KEY, **extra: Any) -> str:
    return key.sign(claims(iss=issuer.url, scope=scope, **extra))


def settings(customer_db: str, issuer: JwksServer, redis_url: str, prefix: str) -> CustomerSettings:
    """As the template sets them: a pool of one or two per environment. An unknown ``kid`` may
    refetch at once here (its 10 s default interval would count from the start-up fetch)."""
    return settings_for(
        customer_db,
        issuer=issuer.url,
        redis_url=redis_url,
        redis_prefix=prefix,
        db_pool_min=1,
        db_pool_max=2,
        jwks_unknown_kid_interval=0.001,
    )


@pytest.fixture
def function(
    environments: EnvironmentFactory, customer_db: str, issuer: JwksServer, redis_url: str, stream_prefix: str
) -> LambdaEnvironment:
    configured = settings(customer_db, issuer, redis_url, stream_prefix)
    return environments(lambda: build_handler(configured, revocation_interval=0))


def test_crud_through_api_gateway_events(function: LambdaEnvironment, issuer: JwksServer) -> None:
    writer = token(issuer, "customers:read customers:write")
    body = customer(1)
    created = function.invoke(http_event("POST", BASE, body=json.dumps(body), headers=JSON, token=writer))
    assert created.status == 201, created.body
    cpf = created.json()["cpf"]
    assert created.headers["location"] == f"{BASE}/{cpf}"
    etag = created.headers["etag"]

    read = function.invoke(http_event("GET", f"{BASE}/{cpf}", token=writer))
    assert (read.status, read.json()["email"]) == (200, body["email"])
    not_modified = function.invoke(
        http_event("GET", f"{BASE}/{cpf}", headers={"if-none-match": etag}, token=writer)
    )
    assert not_modified.status == 304

    patch = {"content-type": "application/merge-patch+json", "if-match": etag}
    patched = function.invoke(
        http_event("PATCH", f"{BASE}/{cpf}", body='{"profession": "pilot"}', headers=patch, token=writer)
    )
    assert (patched.status, patched.json()["profession"]) == (200, "pilot")

    listed = function.invoke(http_event("GET", BASE, query={"limit": "5"}, token=writer))
    assert [item["cpf"] for item in listed.json()["items"]] == [cpf]

    deleter = token(issuer, "customers:delete", **login_claims(mfa=True))
    deleted = function.invoke(http_event("DELETE", f"{BASE}/{cpf}", token=deleter))
    assert deleted.status == 204
    gone = function.invoke(http_event("GET", f"{BASE}/{cpf}", token=writer))
    assert gone.status == 404
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert gone.json()["status"] == 404


def test_401_and_403_bodies_whatever_the_authorizer_context_says(
    function: LambdaEnvironment, issuer: JwksServer
) -> None:
    missing = function.invoke(http_event("GET", f"{BASE}/52998224725"))
    assert missing.status == 401
    assert missing.headers["www-authenticate"].startswith('Bearer realm="customers"')
    assert missing.json()["status"] == 401

    # Signed by another key under our kid: the event still carries the authorizer's claims and
    # scopes as if it had passed; the function verifies the token itself and refuses it.
    forged = token(issuer, "customers:read", key=SigningKey.generate("RS256", kid=KEY.kid))
    refused = function.invoke(http_event("GET", f"{BASE}/52998224725", token=forged))
    assert refused.status == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert refused.json()["status"] == 401

    reader = token(issuer, "customers:read")
    event = http_event("POST", BASE, body=json.dumps(customer(2)), headers=JSON, token=reader)
    event["requestContext"]["authorizer"]["jwt"]["scopes"] = ["customers:write"]  # not believed
    forbidden = function.invoke(event)
    assert forbidden.status == 403
    assert 'error="insufficient_scope"' in forbidden.headers["www-authenticate"]
    assert forbidden.headers["content-type"].startswith("application/problem+json")
    assert forbidden.json()["status"] == 403


def test_started_once_per_environment_and_nothing_left_in_the_background(
    function: LambdaEnvironment, issuer: JwksServer
) -> None:
    reader = token(issuer, "customers:read")
    for _ in range(5):
        assert function.invoke(http_event("GET", BASE, token=reader)).status == 200
    assert issuer.jwks_requests == 1  # loaded at start-up, fresh for its max-age since
    app = function.app
    assert app.started_in is not None
    assert function.run(app.background_tasks) == set()


def test_a_key_published_after_start_up_is_fetched_inside_the_request(
    function: LambdaEnvironment, issuer: JwksServer
) -> None:
    assert function.invoke(http_event("GET", BASE, token=token(issuer, "customers:read"))).status == 200
    new_key = SigningKey.generate("RS256", kid="lambda-rotated")
    issuer.serve_issuer(jwks(KEY, new_key))
    answer = function.invoke(http_event("GET", BASE, token=token(issuer, "customers:read", key=new_key)))
    assert answer.status == 200
    assert issuer.jwks_requests == 2


def test_a_revocation_is_refused_at_the_next_invocation(
    function: LambdaEnvironment, issuer: JwksServer, redis_url: str, stream_prefix: str
) -> None:
    reader = token(issuer, "customers:read", jti="revoked-in-lambda")
    assert function.invoke(http_event("GET", BASE, token=reader)).status == 200

    async def revoke() -> None:
        redis = Redis.from_url(redis_url)
        try:
            await publish(redis, stream_prefix, revocation("jti", "revoked-in-lambda"))
        finally:
            await redis.aclose()

    asyncio.run(revoke())
    refused = function.invoke(http_event("GET", BASE, token=reader))
    assert refused.status == 401
    assert refused.json()["detail"] == "The access token was revoked."


def test_no_cpf_in_the_logs(
    function: LambdaEnvironment, issuer: JwksServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = function.invoke(http_event("GET", f"{BASE}/52998224725", token=token(issuer, "customers:read")))
    assert answer.status == 404
    assert "GET /api/1/customers/{cpf} 404" in caplog.text  # the access log names the route
    assert "52998224725" not in caplog.text
