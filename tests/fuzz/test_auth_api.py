"""Property-based fuzzing of the auth service (schemathesis), against the real process."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from schemathesis import Case

from tests.fuzz import auth_inputs
from tests.fuzz.checks import CONFORMANCE, ROBUSTNESS
from tests.fuzz.documents import auth_document
from tests.fuzz.harness import DOCUMENTED, LONG, QUICK, Operations, fuzz
from tests.processes import ServiceProcess

pytestmark = pytest.mark.e2e

operations = Operations(auth_document())
auth_inputs.install(operations.schema)


@operations.each
@QUICK
def test_robustness(case: Case[Any], auth_api: ServiceProcess, admin_headers: dict[str, str]) -> None:
    fuzz(case, auth_api, admin_headers, ROBUSTNESS)


@operations.each
@DOCUMENTED
def test_conformance(case: Case[Any], auth_api: ServiceProcess, admin_headers: dict[str, str]) -> None:
    fuzz(case, auth_api, admin_headers, CONFORMANCE)


@pytest.mark.slow
@operations.each
@LONG
def test_robustness_long(case: Case[Any], auth_api: ServiceProcess, admin_headers: dict[str, str]) -> None:
    fuzz(case, auth_api, admin_headers, ROBUSTNESS)


@pytest.mark.parametrize("before", [str(2**63), str(-(2**63) - 1), "1" + "0" * 30])
def test_audit_paging_beyond_bigint_is_400(
    auth_api: ServiceProcess, admin_headers: dict[str, str], before: str
) -> None:
    """Found by the long run: an id past PostgreSQL's bigint reached the database and answered 500."""
    response = httpx.get(
        f"{auth_api.url}/api/1/admin/audit-events",
        params={"before": before},
        headers=admin_headers,
        timeout=30,
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == ["before"]
