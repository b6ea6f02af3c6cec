"""What a passkey login costs against a password login, per server core (goal: >= 10x).

Both run against the real auth service as a process on 127.0.0.1 (production argon2id cost), as
a browser would, each with no session at the start: ``/oauth/authorize``, which answers with the
login page (carrying the request back in its forms) ->
- the password form: ``POST /login`` (CSRF token, email, password: argon2id) -> the code;
- the passkey button: the options the login page carries -> the software authenticator signs
  (ES256, in this process: the browser's work, not the server's) -> ``POST /passkeys/login`` ->
  the code.
Each passkey worker has its own authenticator (a passkey of the same person), as each of a
person's devices counts its own signatures. The figure is logins per second of server CPU; then
the server CPU of each step of a passkey login, one at a time (what the two logins share: the
authorization request's login page).

Run: .venv/bin/python -m bench.auth_passkey_login   [BENCH_SECONDS=8 BENCH_LOGIN_WORKERS=4]
Uses BENCH_DATABASE_URL / BENCH_REDIS_URL (server URLs) when set, else embedded servers.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from bench.auth_load import wait_quiet
from bench.auth_login_pages import authorize_url
from bench.auth_oidc_peer import RP_REDIRECT_URI
from bench.auth_sso import register_app
from bench.auth_tokens import Server, data_stores
from tests.auth_service.passkeys.soft_authenticator import SoftAuthenticator

SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
WORKERS = int(os.environ.get("BENCH_LOGIN_WORKERS", "4"))
PERSON, PASSWORD = "passkey.person@example.com", "a passphrase for the passkey benchmark"
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
_CARRIED = re.compile(r'name="authorization" value="([^"]+)"')
_OPTIONS = re.compile(r"data-page-options='([^']*)'")
Login = Callable[[httpx.AsyncClient], Awaitable[None]]


async def _login_page(http: httpx.AsyncClient, issuer: str) -> tuple[str, str, str]:
    """No session: authorize answers with the login page; its CSRF token, the request it carries
    and its passkey options."""
    http.cookies.clear()
    return _fields(await http.get(authorize_url(issuer)))


def _fields(page: httpx.Response) -> tuple[str, str, str]:
    csrf, carried, options = (pattern.search(page.text) for pattern in (_CSRF, _CARRIED, _OPTIONS))
    if page.status_code != 200 or csrf is None or carried is None or options is None:
        raise RuntimeError(f"no login page: {page.status_code}")
    return csrf.group(1), html.unescape(carried.group(1)), html.unescape(options.group(1))


def _code(answer: httpx.Response) -> None:
    target = answer.headers.get("location", "")
    if answer.status_code != 303 or not target.startswith(RP_REDIRECT_URI) or "code=" not in target:
        raise RuntimeError(f"no code: {answer.status_code} {target[:120]}")


def password_login(issuer: str) -> Login:
    async def login(http: httpx.AsyncClient) -> None:
        csrf, carried, _ = await _login_page(http, issuer)
        form = {"_csrf_token": csrf, "authorization": carried, "email": PERSON + ".pw", "password": PASSWORD}
        _code(await http.post(f"{issuer}/login", data=form))

    return login


def passkey_login(issuer: str, devices: list[SoftAuthenticator]) -> Callable[[int], Login]:
    def for_worker(index: int) -> Login:
        device = devices[index]

        async def login(http: httpx.AsyncClient) -> None:
            csrf, carried, options = await _login_page(http, issuer)
            assertion = json.dumps(device.get(json.loads(options)))
            form = {"_csrf_token": csrf, "authorization": carried, "credential": assertion}
            _code(await http.post(f"{issuer}/passkeys/login", data=form))

        return login

    return for_worker


def enrol(server: Server) -> list[SoftAuthenticator]:
    """Two people (viewer role): one logs in with the password only; the other adds one passkey
    per worker, in one session of a password login (before any passkey, no second step)."""
    issuer = server.process.url
    for email in (PERSON, PERSON + ".pw"):
        server.add_person(email, PASSWORD)
    devices = [SoftAuthenticator(issuer) for _ in range(WORKERS)]
    with httpx.Client(base_url=issuer, timeout=30) as http:
        page = http.get("/login?return_to=%2Faccount%2Fpasskeys")
        csrf = _CSRF.search(page.text)
        assert csrf, page.text[:300]
        form = {
            "_csrf_token": csrf.group(1),
            "return_to": "/account/passkeys",
            "email": PERSON,
            "password": PASSWORD,
        }
        if http.post("/login", data=form).status_code != 303:
            raise RuntimeError("the password login for the passkeys failed")
        for device in devices:
            token = _CSRF.search(http.get("/account/passkeys").text)
            assert token, "no passkey page"
            options = http.post("/account/passkeys/options", headers={"X-CSRFToken": token.group(1)})
            options.raise_for_status()
            answer = http.post(
                "/account/passkeys",
                data={"_csrf_token": token.group(1), "credential": json.dumps(device.create(options.json()))},
            )
            if answer.status_code not in (200, 303):
                raise RuntimeError(f"passkey not added: {answer.status_code} {answer.text[:200]}")
    return devices


async def load(logins: Callable[[int], Login], seconds: float) -> tuple[int, list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds

    async def worker(index: int) -> None:
        login = logins(index)
        async with httpx.AsyncClient(timeout=30, follow_redirects=False) as http:
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    await login(http)
                    latencies.append(time.monotonic() - started)
                except (RuntimeError, httpx.HTTPError) as error:
                    errors.append(str(error)[:160])

    await asyncio.gather(*(worker(i) for i in range(WORKERS)))
    return len(latencies), latencies, errors


def measure(server: Server, label: str, logins: Callable[[int], Login]) -> float:
    """Logins per second of server CPU (one core fully busy = 1.0)."""
    asyncio.run(load(logins, 1.0))  # warm-up, not recorded
    wait_quiet()
    cpu0, wall0 = server.cpu_seconds(), time.monotonic()
    count, latencies, errors = asyncio.run(load(logins, SECONDS))
    wall = time.monotonic() - wall0
    cpu = server.cpu_seconds() - cpu0
    per_core = count / cpu if cpu else 0.0
    p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
    print(
        f"{label:<28} {count / wall:7.1f}/s   server cpu {cpu / wall * 100:4.0f}%   "
        f"per server core {per_core:7.1f}/s   p50 {p50:6.1f} ms   errors {len(errors)}"
        + (f"  first: {errors[0]}" if errors else "")
    )
    return per_core


def step_costs(server: Server, device: SoftAuthenticator, rounds: int = 200) -> None:
    """Server CPU per step of one passkey login, the steps run one at a time (where it goes)."""
    issuer, spent = server.process.url, {"authorize (the login page)": 0.0, "answer": 0.0}
    with httpx.Client(timeout=30) as http:
        for _ in range(rounds):
            http.cookies.clear()
            cpu = server.cpu_seconds()
            page = http.get(authorize_url(issuer))
            spent["authorize (the login page)"] += server.cpu_seconds() - cpu
            csrf, carried, options = _fields(page)
            form = {
                "_csrf_token": csrf,
                "authorization": carried,
                "credential": json.dumps(device.get(json.loads(options))),
            }
            cpu = server.cpu_seconds()
            _code(http.post(f"{issuer}/passkeys/login", data=form))
            spent["answer"] += server.cpu_seconds() - cpu
    steps = "   ".join(f"{name} {total / rounds * 1000:.2f}" for name, total in spent.items())
    print(f"{'':<28} server cpu ms per step of a passkey login: {steps}")


def main() -> None:
    cores = os.cpu_count() or 1
    print(f"== passkey login benchmark: {cores} cpu, {SECONDS:.0f} s per run, {WORKERS} login workers")
    with data_stores() as (database, redis), tempfile.TemporaryDirectory(prefix="bench-passkey-") as work:
        server = Server(database, redis, "RS256", Path(work))
        try:
            register_app(server)
            devices = enrol(server)
            issuer = server.process.url
            passwords = measure(server, "password login (argon2id)", lambda _: password_login(issuer))
            passkeys = measure(server, "passkey login (ES256)", passkey_login(issuer, devices))
            step_costs(server, devices[0])
            verdict = "ok" if passkeys >= 10 * passwords else "below the goal"
            print(
                f"{'':<28} passkey / password logins per server core = {passkeys:,.1f} / {passwords:,.1f}"
                f" = {passkeys / passwords if passwords else float('nan'):.1f}x (goal >= 10x: {verdict})"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
