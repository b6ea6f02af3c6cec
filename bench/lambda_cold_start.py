"""How long does a Lambda cold start of the customer API take on this machine?

Each run is a fresh Python process (``tests/serverless/cold_start_process.py``: only what the
deployment zip holds is importable) that imports the handler module (Lambda's init), then takes
three API Gateway events: an authenticated GET (which builds the app from the environment and
starts it: pool, JWKS from a real issuer over HTTP, revocation stream), a POST and a GET.
Printed per phase, median and worst of ``BENCH_RUNS`` runs (default 7):

- ``import``: the handler module and everything it imports;
- ``build``: settings, object graph and routes (no I/O);
- ``start``: the app's start-up (pool, keys, revocations);
- ``first request``: the rest of the first invocation; ``warm``: the third.

Goals: import + build (+ start) <= 1.0 s, first authenticated request <= 200 ms after it. Three
bytecode settings (``PYTHONPYCACHEPREFIX``): ``as in Lambda`` has the standard library compiled
and nothing else (our zips ship no ``.pyc``, so Lambda compiles our code and our dependencies at
each cold start, while the runtime's standard library comes compiled); ``nothing compiled`` is
the upper bound; ``all compiled`` the lower bound (what shipping ``.pyc`` made by the runtime's
Python would give).

Run: .venv/bin/python -m bench.lambda_cold_start   [BENCH_RUNS=7]
Uses BENCH_DATABASE_URL / BENCH_REDIS_URL (server URLs) when set, else embedded servers.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from typing import Any

from bench.auth_tokens import ROOT, data_stores
from devstack.databases import create_database, drop_database
from shared.db.migrate import apply_migrations
from tests.customer_service.factories import customer
from tests.shared.auth.jwks_server import JwksServer
from tests.shared.auth.token_factory import SigningKey, claims, jwks

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
KEY = SigningKey.generate("RS256", kid="bench-cold-start")


def _one(environment: dict[str, str], n: int) -> dict[str, Any]:
    env = {**environment, "COLD_START_CUSTOMER": json.dumps(customer(10_000 + n))}
    done = subprocess.run(
        [sys.executable, "-m", "tests.serverless.cold_start_process", "customer-service"],
        cwd=ROOT, env=env, input="\n", capture_output=True, text=True, check=True,
    )  # fmt: skip
    report: dict[str, Any] = json.loads(done.stdout.splitlines()[0])
    assert report["statuses"] == [200, 201, 200], report
    first = report["invocation_seconds"][0] - report["built_in"] - report["started_in"]
    return {
        "import": report["import_seconds"],
        "build": report["built_in"],
        "start": report["started_in"],
        "import + build + start": report["import_seconds"] + report["built_in"] + report["started_in"],
        "first request": first,
        "warm": report["invocation_seconds"][2],
    }


LABELS = ("as in Lambda", "nothing compiled", "all compiled")


@functools.cache
def _compiled_stdlib() -> str:
    """A bytecode cache holding the standard library only (removed when the process ends)."""
    folder = tempfile.mkdtemp(prefix="bench-stdlib-pyc-")
    atexit.register(shutil.rmtree, folder, True)
    stdlib = os.path.dirname(os.__file__)
    env = {**os.environ, "PYTHONPYCACHEPREFIX": folder, "PYTHONDONTWRITEBYTECODE": ""}
    command = [sys.executable, "-m", "compileall", "-q", "-x", "site-packages", stdlib]
    subprocess.run(command, env=env, check=False, capture_output=True)
    return folder


def _runs(environment: dict[str, str], label: str) -> list[dict[str, Any]]:
    """``RUNS`` cold starts, each with a bytecode cache of its own prepared as ``label`` says."""
    measured, base = [], 1000 * (LABELS.index(label) + 1)
    for n in range(RUNS):
        with tempfile.TemporaryDirectory() as cache:
            env = {**environment, "PYTHONPYCACHEPREFIX": cache, "PYTHONDONTWRITEBYTECODE": "1"}
            if label == "as in Lambda":
                shutil.copytree(_compiled_stdlib(), cache, dirs_exist_ok=True)
            elif label == "all compiled":
                _one({**env, "PYTHONDONTWRITEBYTECODE": ""}, base + 500 + n)  # writes every module's bytecode
            measured.append(_one(env, base + n))
    return measured


def _print(label: str, runs: list[dict[str, Any]]) -> None:
    print(f"{label} ({len(runs)} cold starts): median / worst ms")
    for phase in runs[0]:
        values = [run[phase] * 1000 for run in runs]
        print(f"  {phase:<24} {statistics.median(values):8.1f} / {max(values):8.1f}")


def main() -> None:
    with data_stores() as (server_url, redis_url), JwksServer().running() as issuer:
        issuer.serve_issuer(jwks(KEY))
        name = f"bench_lambda_{secrets.token_hex(3)}"
        url = asyncio.run(create_database(server_url, name))
        asyncio.run(apply_migrations(url, ROOT / "customer_service" / "migrations", "customer_service"))
        token = KEY.sign(claims(iss=issuer.url, scope="customers:read customers:write", exp=2**31 - 1))
        environment = {
            **os.environ,
            "CUSTOMER_DATABASE_URL": url,
            "CUSTOMER_ISSUER": issuer.url,
            "CUSTOMER_REDIS_URL": redis_url,
            "CUSTOMER_REDIS_PREFIX": f"bench:{name}:",
            "CUSTOMER_DB_POOL_MIN": "1",
            "CUSTOMER_DB_POOL_MAX": "2",
            "CUSTOMER_LOG_LEVEL": "warning",
            "COLD_START_TOKEN": token,
        }
        try:
            runs = {
                label: _runs(environment, label)
                for label in ("as in Lambda", "nothing compiled", "all compiled")
            }
        finally:
            asyncio.run(drop_database(server_url, name))
    for label, measured in runs.items():
        _print(f"bytecode {label}", measured)


if __name__ == "__main__":
    main()
