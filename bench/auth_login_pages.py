"""What the hosted login page costs: full logins through the form, and the page's GET latency.

Prints, against the real auth service as a process on 127.0.0.1 (bounded in time):
- full logins through the form per server core - ``/oauth/authorize`` (no session: it answers
  with the login form) -> ``POST /login`` (CSRF token, email, password: argon2id included) -> the
  redirects until the code -, against the raw argon2id verify rate per core with the same
  parameters (goal: >= 85%, as the password grant reaches);
- that page (``GET /oauth/authorize`` without a session) at 32 concurrent connections with wrk:
  req/s and p99 (goal <= 20 ms), with the server on a core of its own and wrk on the others (as
  ``bench.auth_sso`` runs each provider), then both left to the scheduler, which on a small machine
  puts wrk on the server's core half the time.

Run: .venv/bin/python -m bench.auth_login_pages   [BENCH_SECONDS=8 BENCH_LOGIN_WORKERS=4]
Uses BENCH_DATABASE_URL / BENCH_REDIS_URL (server URLs) when set, else embedded servers.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urljoin

import httpx

from bench.auth_load import wait_quiet
from bench.auth_oidc_peer import RP_CLIENT_ID, RP_REDIRECT_URI
from bench.auth_sso import pin, register_app
from bench.auth_tokens import ARGON2, PASSWORD, PERSON, Server, data_stores, raw_argon2_verifies_per_second
from tests.browser.form_driver import forms_of

SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
WORKERS = int(os.environ.get("BENCH_LOGIN_WORKERS", "4"))
PAGE_CONNECTIONS = 32
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def authorize_url(issuer: str) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": RP_CLIENT_ID,
        "redirect_uri": RP_REDIRECT_URI,
        "scope": "openid profile email customers:read",
        "state": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{issuer}/oauth/authorize?{urlencode(query)}"


async def full_login(http: httpx.AsyncClient, issuer: str) -> None:
    """One person, no session: authorize -> login page -> credentials -> redirects to the code."""
    http.cookies.clear()
    response = await http.get(authorize_url(issuer))
    for _ in range(8):
        if response.is_redirect:
            target = urljoin(str(response.url), response.headers["location"])
            if target.startswith(RP_REDIRECT_URI):
                if "code=" not in target:
                    raise RuntimeError(f"error redirect: {target}")
                return
            response = await http.get(target)
            continue
        form = next((f for f in forms_of(response.text) if f.has_password()), None)
        if form is None:
            raise RuntimeError(f"no login form at {response.url}: {response.status_code}")
        data = {f["name"]: f.get("value", "") for f in form.fields if f.get("name")}
        for field in form.fields:
            if field["type"] == "password":
                data[field["name"]] = PASSWORD
            elif field["type"] == "email" or field.get("autocomplete") == "username":
                data[field["name"]] = PERSON
        response = await http.post(urljoin(str(response.url), form.action or str(response.url)), data=data)
    raise RuntimeError("too many steps")


async def login_load(issuer: str, seconds: float) -> tuple[int, list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        async with httpx.AsyncClient(timeout=30, follow_redirects=False) as http:
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    await full_login(http, issuer)
                    latencies.append(time.monotonic() - started)
                except (RuntimeError, httpx.HTTPError) as error:
                    errors.append(str(error)[:160])

    await asyncio.gather(*(worker() for _ in range(WORKERS)))
    return len(latencies), latencies, errors


def bench_logins(server: Server, raw: float) -> None:
    asyncio.run(login_load(server.process.url, 1.0))  # warm-up, not recorded
    wait_quiet()
    cpu0, wall0 = server.cpu_seconds(), time.monotonic()
    count, latencies, errors = asyncio.run(login_load(server.process.url, SECONDS))
    wall = time.monotonic() - wall0
    share = (server.cpu_seconds() - cpu0) / wall
    rate = count / wall
    per_core = rate / share if share else 0.0
    p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
    print(
        f"full login through the form {rate:7.1f}/s   server cpu {share * 100:4.0f}%   "
        f"per server core {per_core:6.1f}/s   p50 {p50:6.1f} ms   errors {len(errors)}"
        + (f"  first: {errors[0]}" if errors else "")
    )
    print(
        f"{'':<28} logins per server core / raw argon2 verifies per core = "
        f"{per_core:,.1f} / {raw:,.1f} = {per_core / raw * 100:.0f}% (goal >= 85%)"
    )


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def bench_login_page(server: Server) -> None:
    """wrk on the login page the authorization endpoint answers a request without a session with
    (GET only: nothing is written per request), the server pinned to the last CPU and wrk to the
    others, then neither pinned."""
    url = authorize_url(server.process.url)
    page = httpx.get(url, timeout=30)
    if page.status_code != 200 or 'name="password"' not in page.text:
        print(f"login page: /oauth/authorize answered {page.status_code}, not the login form; not measured")
        return
    if shutil.which("wrk") is None:
        print("login page GET: wrk not installed (apt-get install wrk); not measured")
        return
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) >= 2 and shutil.which("taskset"):
        assert server.process.process is not None
        pin(server.process.process.pid, {cpus[-1]})
        taskset = ["taskset", "-c", ",".join(map(str, cpus[:-1]))]
        wrk_page(url, taskset, "server on its own core")
        pin(server.process.process.pid, set(cpus))
    wrk_page(url, [], "nothing pinned")


def wrk_page(url: str, prefix: list[str], how: str) -> None:
    wrk = [*prefix, "wrk", "-t1", f"-c{PAGE_CONNECTIONS}", f"-d{max(1, round(SECONDS))}s", "--latency", url]
    subprocess.run([*wrk[: len(prefix) + 3], "-d2s", url], capture_output=True, check=True)  # warm-up
    wait_quiet()
    out = subprocess.run(wrk, capture_output=True, text=True, check=True).stdout
    p99 = _milliseconds(re.search(r"^\s*99%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    verdict = "ok" if p99 <= 20 else "above the goal"
    print(
        f"login page GET, {PAGE_CONNECTIONS} connections, {how + ':':<24} {rate:8.1f} req/s   "
        f"p99 {p99:6.2f} ms (goal <= 20 ms: {verdict})" + (f"   !! {bad.group(1)} non-2xx" if bad else "")
    )


def main() -> None:
    cores = os.cpu_count() or 1
    print(f"== hosted login page benchmark: {cores} cpu, {SECONDS:.0f} s per run, {WORKERS} login workers")
    raw = raw_argon2_verifies_per_second(cores)
    print(
        f"raw argon2id verify (m={ARGON2['memory_kib']} KiB, t={ARGON2['time_cost']}, p=1): "
        f"{raw:,.1f}/s per core with {cores} threads at once"
    )
    with data_stores() as (database, redis), tempfile.TemporaryDirectory(prefix="bench-login-") as work:
        server = Server(database, redis, "RS256", Path(work))
        try:
            register_app(server)
            server.add_person(PERSON)
            bench_logins(server, raw)
            bench_login_page(server)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
