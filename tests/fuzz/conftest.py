"""Both real services as processes for the fuzz suite, on databases of their own, and real tokens.

The auth service runs with fast argon2 (the fuzzer creates users and resets passwords by the
hundred) and open self-registration (so ``POST /api/1/users`` is fuzzed past its 403). Tokens
come from the running auth service's token endpoint, as a client would get them: the bootstrap
admin's token carries every scope of both services.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import EcosystemStarter
from tests.customer_service.conftest import BASE
from tests.ecosystem import Ecosystem
from tests.fuzz import auth_inputs
from tests.fuzz.customer_inputs import seed_documents
from tests.fuzz.harness import FAILURE_LOG, SEEN
from tests.fuzz.known_gaps import known_gap_outcome
from tests.processes import ServiceProcess


@pytest.fixture(scope="package")
def ecosystem(start_ecosystem: EcosystemStarter) -> Iterator[Ecosystem]:
    with start_ecosystem(
        "fuzz",
        auth_extra={
            "AUTH_ARGON2_MEMORY_KIB": "64",
            "AUTH_ARGON2_TIME_COST": "1",
            "AUTH_REGISTRATION_ENABLED": "true",
            "AUTH_LOG_LEVEL": "warning",
        },
        # DELETE's step-up is off: the admin's token is a password grant's (one factor), so every
        # DELETE would be the same 401 and its path and If-Match would go unfuzzed. The step-up
        # itself is tested in tests/customer_service/test_step_up.py and test_customer_token_attacks.py.
        customer_extra={
            "CUSTOMER_JWKS_UNKNOWN_KID_INTERVAL": "1",
            "CUSTOMER_LOG_LEVEL": "warning",
            "CUSTOMER_DELETE_REQUIRES_MFA": "false",
        },
    ) as system:
        yield system


@pytest.fixture(scope="package")
def customer_api(ecosystem: Ecosystem) -> ServiceProcess:
    """The customer service with the customers ``customer_inputs`` steers requests to."""
    headers = {"Authorization": f"Bearer {ecosystem.admin_token()}"}
    for document in seed_documents():
        response = httpx.post(f"{ecosystem.customers.url}{BASE}", json=document, headers=headers, timeout=30)
        assert response.status_code == 201, response.text
    return ecosystem.customers


@pytest.fixture(scope="package")
def auth_api(ecosystem: Ecosystem) -> ServiceProcess:
    """The auth service with the users, role and client ``auth_inputs`` steers requests to."""
    auth_inputs.seed(ecosystem.auth.url, {"Authorization": f"Bearer {ecosystem.admin_token()}"})
    return ecosystem.auth


@pytest.fixture
def admin_headers(ecosystem: Ecosystem) -> dict[str, str]:
    """A fresh admin token per operation: a long run outlives one, and the fuzzer may end sessions."""
    return {"Authorization": f"Bearer {ecosystem.admin_token()}"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not getattr(item, "operation_label", None):
            continue
        # pytest 9 builds a Function's node id from ``originalname``, which schemathesis sets to the
        # bare test name: every operation would share one id (and one line in the report).
        item._id = item.parent.id.child(item.originalname).with_params(item.operation_label)  # type: ignore[attr-defined, union-attr]


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, Any, None]:
    """Outermost, so schemathesis's own hook has seen the real outcome before it is changed here.

    A failed fuzz test shows the service's log tail (pytest drops notes on exception groups); a
    known gap's conformance test is reported as a strict xfail.
    """
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when == "call" and FAILURE_LOG:
        if report.failed:
            for module, tail in FAILURE_LOG.items():
                report.sections.append((f"{module} log (tail)", tail))
        FAILURE_LOG.clear()
    known_gap_outcome(item, report)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not SEEN:
        return
    by_operation: dict[str, Counter[int]] = {}
    for (label, status), count in SEEN.items():
        by_operation.setdefault(label, Counter())[status] += count
    terminalreporter.section("fuzz: answers per operation (status x count)")
    for label in sorted(by_operation):
        statuses = ", ".join(f"{s}x{n}" for s, n in sorted(by_operation[label].items()))
        terminalreporter.write_line(f"{label}: {statuses}")
    terminalreporter.write_line(f"{sum(SEEN.values())} requests over {len(by_operation)} operations")
