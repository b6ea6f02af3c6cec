"""One Lambda cold start, in the fresh Python process this is run as:
``python -m tests.serverless.cold_start_process customer-service`` (``CUSTOMER_*`` settings and the
token to send in the environment, as Lambda gives them).

Only what the function's zip holds can be imported: every installed distribution that is not in
``requirements/serverless.txt``, or that ``deploy/serverless/package.py`` leaves out of this
function's zip (and the module paths it drops), raises ``ModuleNotFoundError``, so the requests
below prove the omissions safe. Then it imports the handler module (Lambda's init), calls the
module-level ``handler`` with API Gateway events (the first builds the app from the environment
and starts it), and prints one JSON line: statuses, the seconds each step took, the tasks left on
the loop, the omitted modules that were imported (none). It then waits for a line on stdin before
exiting, so the caller can look at the database connections the environment holds.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from importlib.metadata import packages_distributions
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["blocked_modules", "main"]

ROOT = Path(__file__).resolve().parents[2]
OUR_PACKAGES = ("auth_service", "customer_service", "shared", "tests", "bench", "devstack", "deploy")


def _package_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "lambda_package", ROOT / "deploy" / "serverless" / "package.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def blocked_modules(function: str) -> tuple[set[str], tuple[str, ...]]:
    """Top-level import names the zip does not have, and dotted modules it drops."""
    package = _package_module()
    locked = {
        package.normalised(m)
        for m in re.findall(
            r"^([A-Za-z0-9_.-]+)==", (ROOT / "requirements" / "serverless.txt").read_text(), re.M
        )
    }
    kept = locked - package.OMITTED[function]
    blocked = set()
    for top, dists in packages_distributions().items():
        if top in OUR_PACKAGES or top.startswith("_distutils") or top in sys.stdlib_module_names:
            continue
        if not any(package.normalised(d) in kept for d in dists):
            blocked.add(top)
    dropped = tuple(p.removesuffix(".py").replace("/", ".") for p in package.OMITTED_PATHS[function])
    return blocked, dropped


class _Absent(importlib.abc.MetaPathFinder):
    def __init__(self, tops: set[str], dotted: Sequence[str]) -> None:
        self.tops = tops
        self.dotted = tuple(dotted)
        self.refused: set[str] = set()

    def find_spec(self, name: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name.partition(".")[0] in self.tops or name.startswith(self.dotted):
            self.refused.add(name)
            raise ModuleNotFoundError(f"not in the deployment zip: {name}", name=name)
        return None


def _events(function: str) -> list[dict[str, Any]]:
    from tests.serverless.lambda_events import http_event

    token = os.environ["COLD_START_TOKEN"]
    body = json.dumps(json.loads(os.environ["COLD_START_CUSTOMER"]))
    return [
        http_event("GET", "/api/1/customers", token=token),
        http_event(
            "POST", "/api/1/customers", body=body, headers={"content-type": "application/json"}, token=token
        ),
        http_event("GET", "/api/1/customers", token=token),
    ]


def main() -> None:
    function = sys.argv[1]
    tops, dotted = blocked_modules(function)
    absent = _Absent(tops, dotted)
    sys.meta_path.insert(0, absent)
    from tests.serverless.lambda_events import LambdaResponse  # our test helpers: not the zip's

    events = _events(function)
    began = time.perf_counter()
    module = importlib.import_module(f"{function.replace('-', '_')}.lambda_handler")
    imported = time.perf_counter()
    statuses, seconds = [], []
    for event in events:
        start = time.perf_counter()
        statuses.append(LambdaResponse.of(module.handler(event, None)).status)
        seconds.append(time.perf_counter() - start)
    app = module.handler.built
    present = sorted(
        name for name in sys.modules if name.partition(".")[0] in tops or name.startswith(dotted)
    )
    report = {
        "statuses": statuses,
        "import_seconds": imported - began,
        "built_in": module.handler.built_in,
        "started_in": app.started_in,
        "invocation_seconds": seconds,
        "background_tasks": len(app.background_tasks()),
        "omitted_but_imported": present,
        "refused_imports": len(absent.refused),
    }
    print(json.dumps(report), flush=True)
    sys.stdin.readline()
    app.close()


if __name__ == "__main__":
    main()
