"""Property-based fuzzing of the customer API (schemathesis), against the real process."""

from __future__ import annotations

from typing import Any

import pytest
from schemathesis import Case

from tests.fuzz import customer_inputs
from tests.fuzz.checks import CONFORMANCE, ROBUSTNESS
from tests.fuzz.documents import customer_document
from tests.fuzz.harness import DOCUMENTED, LONG, QUICK, Operations, fuzz
from tests.processes import ServiceProcess

pytestmark = pytest.mark.e2e

operations = Operations(customer_document())
customer_inputs.install(operations.schema)


@operations.each
@QUICK
def test_robustness(case: Case[Any], customer_api: ServiceProcess, admin_headers: dict[str, str]) -> None:
    fuzz(case, customer_api, admin_headers, ROBUSTNESS)


@operations.each
@DOCUMENTED
def test_conformance(case: Case[Any], customer_api: ServiceProcess, admin_headers: dict[str, str]) -> None:
    fuzz(case, customer_api, admin_headers, CONFORMANCE)


@pytest.mark.slow
@operations.each
@LONG
def test_robustness_long(
    case: Case[Any], customer_api: ServiceProcess, admin_headers: dict[str, str]
) -> None:
    fuzz(case, customer_api, admin_headers, ROBUSTNESS)
