"""Each endpoint's scope: read, write and delete are separate; no token at all is 401 everywhere.

The hostile-token matrix (bad signatures, wrong audience, alg none...) is in
tests/e2e/test_customer_token_attacks.py against the real process.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.customer_service.conftest import BASE, MERGE_PATCH, bearer
from tests.customer_service.factories import cpf, customer

ONE = f"{BASE}/{cpf(1)}"
ENDPOINTS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("GET", BASE, "customers:read", {}),
    ("GET", f"{BASE}/search?q=ana", "customers:read", {}),
    ("GET", ONE, "customers:read", {}),
    ("POST", BASE, "customers:write", {"json": customer(2)}),
    ("PUT", ONE, "customers:write", {"json": customer(1, city="Recife"), "headers": {"If-Match": "*"}}),
    (
        "PATCH",
        ONE,
        "customers:write",
        {"json": {"city": "Natal"}, "headers": {**MERGE_PATCH, "If-Match": "*"}},
    ),
    ("DELETE", ONE, "customers:delete", {}),
]
SCOPES = ("customers:read", "customers:write", "customers:delete")


@pytest.fixture
async def seeded(api: httpx.AsyncClient) -> httpx.AsyncClient:
    assert (await api.post(BASE, json=customer(1))).status_code == 201
    return api


def _with_token(options: dict[str, Any], scope: str) -> dict[str, Any]:
    return {**options, "headers": {**options.get("headers", {}), **bearer(scope=scope)}}


@pytest.mark.parametrize(("method", "url", "needed", "options"), ENDPOINTS)
async def test_without_a_token(
    seeded: httpx.AsyncClient, method: str, url: str, needed: str, options: dict[str, Any]
) -> None:
    seeded.headers.pop("Authorization")
    response = await seeded.request(method, url, **options)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="customers"'
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("method", "url", "needed", "options"), ENDPOINTS)
async def test_other_scopes_are_403(
    seeded: httpx.AsyncClient, method: str, url: str, needed: str, options: dict[str, Any]
) -> None:
    others = " ".join(scope for scope in SCOPES if scope != needed)
    response = await seeded.request(method, url, **_with_token(options, others))
    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert f'scope="{needed}"' in challenge
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("method", "url", "needed", "options"), ENDPOINTS)
async def test_its_own_scope_is_enough(
    seeded: httpx.AsyncClient, method: str, url: str, needed: str, options: dict[str, Any]
) -> None:
    response = await seeded.request(method, url, **_with_token(options, needed))
    assert response.status_code < 300, response.text


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/schema/openapi.json"])
async def test_operational_endpoints_need_no_token(api: httpx.AsyncClient, path: str) -> None:
    api.headers.pop("Authorization")
    assert (await api.get(path)).status_code == 200
