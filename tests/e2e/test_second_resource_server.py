"""A second resource server registers itself and gets tokens no other API accepts, and back.

The auth service, the customer service and ``billing`` (tests/e2e/billing_service.py: the
README's ``TokenVerifier(..., audience="billing")`` example) run as processes. The admin registers
``billing`` through the admin API and a client holding its scope. Then every token opens exactly
one of the three APIs: a billing token works at billing only, a customers token at the customer
API only, an auth token at the auth service's own API only; everywhere else it is a 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import EcosystemStarter
from tests.ecosystem import ADMIN_EMAIL, ADMIN_PASSWORD, Ecosystem
from tests.processes import ServiceProcess

pytestmark = pytest.mark.e2e

BILLING = {
    "identifier": "billing",
    "name": "Billing API",
    "scopes": ["billing:read"],
    "access_token_ttl": 300,
}
# One protected endpoint per API, and the audience a token must name to open it.
ENDPOINTS = {"billing": "/invoices", "customers": "/api/1/customers", "auth": "/api/1/admin/users"}


@dataclass
class Stack:
    system: Ecosystem
    billing: ServiceProcess
    tokens: dict[str, str]
    """An access token per audience: ``billing`` (a client's), ``customers`` and ``auth`` (the admin's)."""
    billing_client: dict[str, str]

    def url(self, api: str) -> str:
        process = {"billing": self.billing, "customers": self.system.customers, "auth": self.system.auth}[api]
        return process.url + ENDPOINTS[api]


def billing_process(issuer: str, log_dir: Path) -> ServiceProcess:
    process = ServiceProcess("tests.e2e.billing_service", {"BILLING_ISSUER": issuer}, log_dir)
    process.env["BILLING_PORT"] = str(process.port)
    return process


def register_billing(system: Ecosystem, admin: str) -> dict[str, str]:
    """What the billing team's operator does: the resource server, then a client with its scope."""
    bearer = {"Authorization": f"Bearer {admin}"}
    server = httpx.post(
        f"{system.auth.url}/api/1/admin/resource-servers/", json=BILLING, headers=bearer, timeout=30
    )
    assert server.status_code == 201, server.text
    assert {k: server.json()[k] for k in BILLING} == BILLING
    assert server.json()["managed"] is False
    client = httpx.post(
        f"{system.auth.url}/api/1/admin/clients/",
        json={"client_name": "billing run", "grant_types": ["client_credentials"], "scope": "billing:read"},
        headers=bearer,
        timeout=30,
    )
    assert client.status_code == 201, client.text
    assert client.json()["resources"] == ["billing"]  # the owner of its scopes
    return dict(client.json())


def client_token(system: Ecosystem, client: dict[str, str], **form: str) -> httpx.Response:
    return httpx.post(
        f"{system.auth.url}/oauth/token",
        data={"grant_type": "client_credentials", **form},
        auth=(client["client_id"], client["client_secret"]),
        timeout=30,
    )


@pytest.fixture(scope="module")
def stack(start_ecosystem: EcosystemStarter, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    log_dir = Path(tmp_path_factory.mktemp("billing-service"))
    with start_ecosystem("billing") as system:
        admin = system.token(ADMIN_EMAIL, ADMIN_PASSWORD, resources=("auth",))
        client = register_billing(system, admin)
        issued = client_token(system, client, resource="billing")
        assert issued.status_code == 200, issued.text
        assert issued.json()["expires_in"] == BILLING["access_token_ttl"]  # billing's own lifetime
        tokens = {
            "billing": issued.json()["access_token"],
            "customers": system.token(ADMIN_EMAIL, ADMIN_PASSWORD, resources=("customers",)),
            "auth": admin,
        }
        billing = billing_process(system.auth.url, log_dir).start()
        try:
            yield Stack(system, billing, tokens, client)
        finally:
            billing.stop()


@pytest.mark.parametrize("token", list(ENDPOINTS))
@pytest.mark.parametrize("api", list(ENDPOINTS))
def test_each_token_opens_only_its_own_api(stack: Stack, token: str, api: str) -> None:
    answer = httpx.get(stack.url(api), headers={"Authorization": f"Bearer {stack.tokens[token]}"}, timeout=30)
    if token == api:
        assert answer.status_code == 200, answer.text
    else:
        assert answer.status_code == 401, f"a {token} token opened the {api} API: {answer.text}"
        assert 'error="invalid_token"' in answer.headers["www-authenticate"]


def test_billing_sees_the_client_that_called(stack: Stack) -> None:
    answer = httpx.get(stack.url("billing"), headers={"Authorization": f"Bearer {stack.tokens['billing']}"})
    assert answer.json() == {
        "sub": stack.billing_client["client_id"],
        "client_id": stack.billing_client["client_id"],
        "invoices": [],
    }


def test_a_billing_client_gets_no_token_for_an_api_it_was_not_allowed(stack: Stack) -> None:
    for resource in ("customers", "auth", "ledger"):
        refused = client_token(stack.system, stack.billing_client, resource=resource)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "invalid_target"
    # Without ``resource``: its only resource, billing (RFC 8707 leaves the default to the server).
    default = client_token(stack.system, stack.billing_client)
    assert default.status_code == 200, default.text
    answer = httpx.get(
        stack.url("billing"), headers={"Authorization": f"Bearer {default.json()['access_token']}"}
    )
    assert answer.status_code == 200


def test_the_first_party_client_gets_no_billing_token(stack: Stack) -> None:
    """The billing API is not among first-party's resources until an admin adds it."""
    refused = httpx.post(
        f"{stack.system.auth.url}/oauth/token",
        data={
            "grant_type": "password",
            "client_id": "first-party",
            "username": ADMIN_EMAIL,
            "password": ADMIN_PASSWORD,
            "resource": "billing",
        },
        timeout=30,
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_target"
