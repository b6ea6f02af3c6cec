"""RFC 6750 answers from the Litestar integration: 401 challenges, 403 insufficient_scope."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, Request, get
from litestar.middleware import DefineMiddleware
from litestar.testing import TestClient

from shared.auth.keys import PreparedKey, StaticKeySource
from shared.auth.litestar import (
    BearerAuthMiddleware,
    check_scoped_routes_authenticated,
    current_claims,
    requires_scopes,
)
from shared.auth.verifier import TokenVerifier
from shared.http.problems import problem_details_plugin
from tests.shared.auth.token_factory import AUDIENCE, ISSUER, SigningKey, claims

KEY = SigningKey.generate("RS256", kid="k1")


@get("/read", opt=requires_scopes("customers:read"), sync_to_thread=False)
def read(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {"sub": current_claims(request).sub}


@get("/delete", opt=requires_scopes("customers:delete"), sync_to_thread=False)
def delete() -> None:
    return None


@get("/public", opt={"exclude_from_auth": True}, sync_to_thread=False)
def public() -> str:
    return "ok"


@pytest.fixture
def client() -> Iterator[TestClient[Litestar]]:
    verifier = TokenVerifier(
        StaticKeySource([PreparedKey.from_jwk(KEY.public_jwk())]), issuer=ISSUER, audience=AUDIENCE
    )
    app = Litestar(
        [read, delete, public],
        middleware=[DefineMiddleware(BearerAuthMiddleware, verifier=verifier, realm="customers")],
        plugins=[problem_details_plugin()],
    )
    with TestClient(app) as test_client:
        yield test_client


def test_valid_token_reaches_the_handler(client: TestClient[Litestar]) -> None:
    response = client.get("/read", headers={"Authorization": f"Bearer {KEY.sign(claims())}"})
    assert response.status_code == 200
    assert response.json() == {"sub": "user-1"}


def test_missing_token_is_401_without_error_code(client: TestClient[Litestar]) -> None:
    response = client.get("/read")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="customers"'
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "authorization",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer a b", "Bearer not-a-jwt", "bearer x.y.z"],
)
def test_bad_credentials_are_401_invalid_token(client: TestClient[Litestar], authorization: str) -> None:
    response = client.get("/read", headers={"Authorization": authorization})
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="customers", error="invalid_token", error_description="')
    assert response.json()["status"] == 401


def test_bearer_scheme_is_case_insensitive(client: TestClient[Litestar]) -> None:
    assert client.get("/read", headers={"Authorization": f"bEaReR {KEY.sign(claims())}"}).status_code == 200


def test_expired_token_says_so(client: TestClient[Litestar]) -> None:
    token = KEY.sign(claims(exp=1_000_000, iat=999_000, nbf=999_000))
    response = client.get("/read", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert 'error_description="The access token expired."' in response.headers["www-authenticate"]


def test_two_authorization_headers_are_refused(client: TestClient[Litestar]) -> None:
    token = KEY.sign(claims())
    response = client.get(
        "/read", headers=[("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")]
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_token_in_query_string_is_not_accepted(client: TestClient[Litestar]) -> None:
    response = client.get("/read", params={"access_token": KEY.sign(claims())})
    assert response.status_code == 401


def test_missing_scope_is_403_insufficient_scope(client: TestClient[Litestar]) -> None:
    response = client.get("/delete", headers={"Authorization": f"Bearer {KEY.sign(claims())}"})
    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="customers", error="insufficient_scope"')
    assert challenge.endswith('scope="customers:delete"')
    assert response.headers["content-type"] == "application/problem+json"


def test_excluded_route_needs_no_token(client: TestClient[Litestar]) -> None:
    assert client.get("/public").status_code == 200


@get("/scoped-but-public", opt={**requires_scopes("customers:read"), "exclude_from_auth": True})
async def scoped_but_public() -> str:
    return "anyone"


@pytest.mark.parametrize(
    ("handlers", "exclude"),
    [([read], ["^/read$"]), ([scoped_but_public], [])],
    ids=["excluded-path", "exclude_from_auth"],
)
def test_a_scoped_route_served_without_a_token_is_refused_at_start_up(
    handlers: list[Any], exclude: list[str]
) -> None:
    """The middleware never runs on an excluded route, so its scopes would go unchecked: fail closed."""
    app = Litestar(handlers)
    with pytest.raises(ValueError, match="requires scopes but is served without a bearer token"):
        check_scoped_routes_authenticated(app, exclude)
    check_scoped_routes_authenticated(Litestar([read, public]), ["^/public$"])  # public has no scopes
