"""The documents fuzzed (built at collection from ``create_app``) are those the processes serve."""

from __future__ import annotations

import httpx
import pytest

from tests.ecosystem import Ecosystem
from tests.fuzz.documents import SCHEMA_PATH, auth_document, customer_document, without_examples

pytestmark = pytest.mark.e2e


def test_auth_service_serves_the_fuzzed_document(ecosystem: Ecosystem) -> None:
    served = httpx.get(ecosystem.auth.url + SCHEMA_PATH, timeout=30)
    assert served.status_code == 200
    assert without_examples(served.json()) == auth_document()


def test_customer_service_serves_the_fuzzed_document(ecosystem: Ecosystem) -> None:
    served = httpx.get(ecosystem.customers.url + SCHEMA_PATH, timeout=30)
    assert served.status_code == 200
    assert without_examples(served.json()) == customer_document()
