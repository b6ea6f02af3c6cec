"""How the fuzz tests call a running service and report what it did wrong.

Budgets: the default run (``make test``) tries a few examples per operation, derandomized so a
failure reproduces on the next run and a strict ``xfail`` stays stable; ``make fuzz-long`` (or
``make test-long``, which runs every long variant) runs the ``slow`` ones with many random examples.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar, cast

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case, CheckFunction

from tests.processes import ServiceProcess

__all__ = ["DOCUMENTED", "FAILURE_LOG", "LONG", "QUICK", "SEEN", "Operations", "fuzz"]

T = TypeVar("T", bound=Callable[..., None])

_HEALTH = list(HealthCheck)
QUICK = settings(
    max_examples=10, deadline=None, derandomize=True, suppress_health_check=_HEALTH, database=None
)
"""Default robustness run: a few cases per operation besides schemathesis's coverage cases."""
DOCUMENTED = settings(QUICK, max_examples=3)
"""Default conformance run: the coverage cases (wrong methods, media types, missing auth) find the
undocumented answers; random cases add little there."""
LONG = settings(max_examples=400, deadline=None, suppress_health_check=_HEALTH, database=None)
"""``make fuzz-long``: random, many more examples per operation."""

_LOG_TAIL = 6000

SEEN: Counter[tuple[str, int]] = Counter()
"""(operation, status) -> answers, for the run's summary: how deep the fuzzing got."""
FAILURE_LOG: dict[str, str] = {}
"""The failing service's log tail (its traceback of a 500), shown in the test's report."""


class Operations:
    """A schema's operations; ``each`` makes a test one pytest item per operation (typed for mypy)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.schema = schemathesis.openapi.from_dict(document)

    def each(self, test: T) -> T:
        return cast(T, self.schema.parametrize()(test))


def fuzz(
    case: Case[Any], service: ServiceProcess, headers: dict[str, str], checks: list[CheckFunction]
) -> None:
    """Call ``service`` with ``case`` and run ``checks``; a failure keeps the service's log tail."""
    response = case.call(base_url=service.url, headers=headers, timeout=30)
    SEEN[case.operation.label, response.status_code] += 1
    try:
        case.validate_response(response, checks=checks, headers=headers)
    except Exception:
        FAILURE_LOG[service.module] = service.log()[-_LOG_TAIL:]
        raise
