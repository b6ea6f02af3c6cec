"""No CPF in the real customer service's log output (LGPD): the access log names the route
template (``/api/1/customers/{cpf}``), never the path the client sent, and a request no route
matches is logged under a fixed placeholder, so a 404 or 405 cannot write client text either."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.http.observation import UNMATCHED_ROUTE
from tests.conftest import customer_revocation_env
from tests.drill_support import cpf_from, new_customer
from tests.processes import ServiceProcess
from tests.shared.auth.jwks_server import JwksServer
from tests.shared.auth.token_factory import SigningKey, claims, jwks, login_claims

pytestmark = pytest.mark.e2e

KEY = SigningKey.generate("RS256", kid="logs-1")
CUSTOMERS = "/api/1/customers"


@pytest.fixture
def service(
    customer_db: str, tmp_path: Path, redis_url: str, redis_namespace: str
) -> Iterator[tuple[ServiceProcess, JwksServer]]:
    issuer = JwksServer()
    issuer.jwks = jwks(KEY)
    with issuer.running():
        env = {
            "CUSTOMER_DATABASE_URL": customer_db,
            "CUSTOMER_ISSUER": issuer.url,
            "CUSTOMER_LOG_LEVEL": "info",
            **customer_revocation_env(redis_url, redis_namespace, "logs"),
        }
        process = ServiceProcess("customer_service", env, tmp_path).start()
        try:
            yield process, issuer
        finally:
            process.stop()


def formatted(cpf: str) -> str:
    return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"


def crud_by_cpf(http: httpx.Client, customer: dict[str, str], cpf: str) -> list[int]:
    """Create, read (both spellings), replace, patch, delete: each addresses the customer by CPF."""
    statuses = [http.post(f"{CUSTOMERS}/", json=customer).status_code]
    read = http.get(f"{CUSTOMERS}/{cpf}")
    statuses += [read.status_code, http.get(f"{CUSTOMERS}/{formatted(cpf)}").status_code]
    replaced = http.put(
        f"{CUSTOMERS}/{cpf}", json={**customer, "city": "Recife"}, headers={"If-Match": read.headers["ETag"]}
    )
    patched = http.patch(
        f"{CUSTOMERS}/{formatted(cpf)}",
        content=b'{"city": "Natal"}',
        headers={"If-Match": replaced.headers["ETag"], "Content-Type": "application/merge-patch+json"},
    )
    statuses += [replaced.status_code, patched.status_code]
    statuses.append(
        http.delete(f"{CUSTOMERS}/{cpf}", headers={"If-Match": patched.headers["ETag"]}).status_code
    )
    statuses.append(http.get(f"{CUSTOMERS}/{cpf}").status_code)  # gone: a 404 on a matched route
    return statuses


def test_crud_by_cpf_leaves_no_cpf_in_the_log(service: tuple[ServiceProcess, JwksServer]) -> None:
    process, issuer = service
    run = random.randrange(1, 9000)
    customer = new_customer(run)
    cpf = customer["cpf"]
    stranger = cpf_from(run * 100_000 + 99_999)  # a valid CPF sent only in unrouted requests
    scope = "customers:read customers:write customers:delete"
    token = KEY.sign(claims(iss=issuer.url, scope=scope, exp=2_000_000_000, **login_claims(mfa=True)))
    headers = {"Authorization": f"Bearer {token}"}  # a login with a second factor: DELETE needs one
    with httpx.Client(base_url=process.url, headers=headers, timeout=15) as http:
        assert crud_by_cpf(http, customer, cpf) == [201, 200, 200, 200, 200, 204, 404]
        assert http.get(f"/api/1/clientes/{stranger}").status_code == 404  # no route
        assert http.post(f"{CUSTOMERS}/{formatted(stranger)}", json={}).status_code == 405
    process.stop()

    log = process.log()
    for secret in (cpf, formatted(cpf), stranger, formatted(stranger)):
        assert secret not in log, f"CPF {secret} in the log:\n{log}"
    digits_only = re.sub(r"\D", "", log)
    assert cpf not in digits_only, "a CPF spelt with other separators"
    assert stranger not in digits_only
    # The log is not silent: one access line per request, naming the template or the placeholder.
    access = [entry for entry in map(json.loads, log.splitlines()) if entry.get("logger") == "access"]
    routes = [(e["method"], e["route"], e["status"]) for e in access if e["route"] != "/readyz"]
    assert routes == [
        ("POST", CUSTOMERS, 201),
        ("GET", f"{CUSTOMERS}/{{cpf}}", 200),
        ("GET", f"{CUSTOMERS}/{{cpf}}", 200),
        ("PUT", f"{CUSTOMERS}/{{cpf}}", 200),
        ("PATCH", f"{CUSTOMERS}/{{cpf}}", 200),
        ("DELETE", f"{CUSTOMERS}/{{cpf}}", 204),
        ("GET", f"{CUSTOMERS}/{{cpf}}", 404),
        ("GET", UNMATCHED_ROUTE, 404),
        ("POST", UNMATCHED_ROUTE, 405),
    ]
    assert all("path" not in entry for entry in access)
