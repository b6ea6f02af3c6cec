"""Bounded token-endpoint load runs and what they cost the server, for ``bench.auth_tokens``.

wrk drives the load when installed (refresh chains through a token pool in Lua), else a small
asyncio loader.
CPU shares are read around each run: the server's process, the load generator's, and the rest.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import psutil

from bench.auth_http_load import form_post, run_load

__all__ = ["USE_WRK", "Load", "Run", "Target", "form_load", "measure", "refresh_load"]

WRK = Path(__file__).parent / "wrk"
USE_WRK = shutil.which("wrk") is not None and os.environ.get("BENCH_LOADER") != "asyncio"


class Target(Protocol):
    token_url: str

    def cpu_seconds(self) -> float: ...

    def database_cpu_seconds(self) -> float: ...

    def login(self) -> dict[str, Any]: ...


class Run:
    """One bounded load run: answers per second, the server's CPU share, the rest of the box."""

    def __init__(
        self, ok: int, failed: int, seconds: float, server_cpu: float, database_cpu: float, other_cpu: float
    ) -> None:
        self.ok, self.failed, self.seconds = ok, failed, seconds
        self.server_cpu, self.database_cpu, self.other_cpu = server_cpu, database_cpu, other_cpu

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    @property
    def per_core(self) -> float:
        return self.rate / self.server_cpu if self.server_cpu > 0 else 0.0


def _box_busy() -> float:
    times = psutil.cpu_times()
    return float(
        times.user
        + times.system
        + getattr(times, "nice", 0)
        + getattr(times, "irq", 0)
        + getattr(times, "softirq", 0)
    )


def _wrk(
    url: str, script: str, connections: int, seconds: float, env: dict[str, str], headers: list[str]
) -> tuple[int, int, float, float]:
    """(ok, failed, seconds, wrk's own cpu seconds)"""
    args = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK / script),
    ]
    for header in headers:
        args += ["-H", header]
    started = os.times()
    out = subprocess.run(
        [*args, url], env={**os.environ, **env}, capture_output=True, text=True, check=True
    ).stdout
    ended = os.times()
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    fields = dict(part.split("=") for part in line.split()[1:])
    requests, failed = int(fields["requests"]), int(fields["non2xx"]) + int(fields["sock_errors"])
    wrk_cpu = (ended.children_user - started.children_user) + (
        ended.children_system - started.children_system
    )
    return requests - failed, failed, float(fields["seconds"]), wrk_cpu


Load = Callable[[float], tuple[int, int, float, float]]


QUIET_WAIT = float(os.environ.get("BENCH_QUIET_WAIT", "120"))
QUIET_MAX = 0.25  # of one core


def wait_quiet() -> None:
    """Wait (``BENCH_QUIET_WAIT`` s at most) until other work leaves the box nearly idle."""
    deadline = time.monotonic() + QUIET_WAIT
    while True:
        before = _box_busy()
        time.sleep(1.0)
        busy = _box_busy() - before
        if busy <= QUIET_MAX or time.monotonic() > deadline:
            if busy > QUIET_MAX:
                print(
                    f"   (the box is {busy * 100:.0f}% busy with other work: figures will be low and noisy)"
                )
            return


def measure(server: Target, prepare: Callable[[int], Load], connections: int, seconds: float) -> Run:
    """``prepare`` builds a run (e.g. logs in for fresh refresh tokens) outside the measured window."""
    prepare(connections)(1.0)  # warm-up, not recorded
    load = prepare(connections)
    wait_quiet()
    cpu0, db0, box0 = server.cpu_seconds(), server.database_cpu_seconds(), _box_busy()
    own0, wall0 = psutil.Process().cpu_times(), time.monotonic()
    ok, failed, elapsed, loader_cpu = load(seconds)
    own1, wall = psutil.Process().cpu_times(), time.monotonic() - wall0
    server_cpu = server.cpu_seconds() - cpu0
    database_cpu = server.database_cpu_seconds() - db0
    own = (own1.user + own1.system) - (own0.user + own0.system)
    other = _box_busy() - box0 - server_cpu - database_cpu - own - loader_cpu
    if failed:
        print(f"   !! {failed} answers were not 200")
    return Run(ok, failed, elapsed, server_cpu / wall, database_cpu / wall, max(0.0, other) / wall)


def form_load(server: Target, body: str, headers: dict[str, str]) -> Callable[[int], Load]:
    def prepare(connections: int) -> Load:
        def load(seconds: float) -> tuple[int, int, float, float]:
            if USE_WRK:
                lines = [f"{k}: {v}" for k, v in headers.items()]
                return _wrk(
                    server.token_url, "auth_token.lua", connections, seconds, {"TOKEN_BODY": body}, lines
                )
            request = form_post(server.token_url, body, headers)
            result = asyncio.run(
                run_load(server.token_url, lambda w, p: request, connections=connections, seconds=seconds)
            )
            return result.ok, result.failed, result.seconds, 0.0

        return load

    return prepare


def refresh_load(server: Target, work: Path) -> Callable[[int], Load]:
    """Each refresh token is used once and each answer's successor next; the logins (argon2) for
    the starting tokens happen before the measured window."""

    def prepare(connections: int) -> Load:
        if USE_WRK:
            pool = work / "refresh-tokens.txt"
            pool.write_text("".join(server.login()["refresh_token"] + "\n" for _ in range(2 * connections)))
            env = {"REFRESH_TOKENS_FILE": str(pool)}

            def wrk_load(seconds: float) -> tuple[int, int, float, float]:
                return _wrk(server.token_url, "auth_refresh.lua", connections, seconds, env, [])

            return wrk_load
        current = {i: server.login()["refresh_token"] for i in range(connections)}

        def next_request(worker: int, previous: bytes | None) -> bytes:
            if previous is not None:
                current[worker] = json.loads(previous)["refresh_token"]
            form = {
                "grant_type": "refresh_token",
                "client_id": "first-party",
                "refresh_token": current[worker],
            }
            return form_post(server.token_url, urlencode(form))

        def load(seconds: float) -> tuple[int, int, float, float]:
            result = asyncio.run(
                run_load(server.token_url, next_request, connections=connections, seconds=seconds)
            )
            return result.ok, result.failed, result.seconds, 0.0

        return load

    return prepare
