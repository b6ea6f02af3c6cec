"""How many tokens does the auth service issue per second, per core, for each signing algorithm?

Prints, side by side in one run (real HTTP to the real process on 127.0.0.1, bounded in time):
- password-grant logins/s against the raw argon2id verify rate with the same parameters, per core
  (goal: logins >= 85% of raw verifies per core);
- refresh_token and client_credentials tokens/s for RS256, ES256 and EdDSA, per server core
  (goals per core: refresh >= 600/s, client_credentials >= 1,200/s).
"Per core" divides by the server process's CPU share over the run (user + system time / wall),
so the load generator sharing the machine does not flatter or hide anything. The server runs as
deployed: access log at info, JSON, to a file.

Run: .venv/bin/python -m bench.auth_tokens   [BENCH_SECONDS=8 BENCH_CONNECTIONS=16]
Uses BENCH_DATABASE_URL / BENCH_REDIS_URL (server URLs) when set, else embedded servers.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx
import psutil
from argon2 import PasswordHasher, Type

from bench.auth_load import USE_WRK, Run, form_load, measure, refresh_load
from bench.auth_oidc_peer import OidcPeer, peer_available
from devstack.databases import create_database, drop_database
from devstack.embedded import EmbeddedPostgres, EmbeddedRedis
from shared.db.migrate import apply_migrations
from tests.ecosystem import bootstrap_admin
from tests.processes import ServiceProcess

ROOT = Path(__file__).resolve().parents[1]
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
ARGON2 = {"memory_kib": 19456, "time_cost": 2, "parallelism": 1}
EMAIL, PASSWORD = "bench.user@example.com", "benchmark passphrase of decent length"
# The person the browser benchmarks log in as: a viewer, as the admin's role requires a second factor.
PERSON = "bench.person@example.com"


# ---------------------------------------------------------------- raw argon2
def raw_argon2_verifies_per_second(threads: int, seconds: float = 3.0) -> float:
    """Verifies per CPU-second with ``threads`` verifying at once: the per-core ceiling a login path
    can approach. CPU time, not wall time, so other work on a shared machine does not skew it; as
    many threads as the server's hashing pool, so memory-bandwidth contention is the same too."""
    hasher = PasswordHasher(
        time_cost=ARGON2["time_cost"],
        memory_cost=ARGON2["memory_kib"],
        parallelism=ARGON2["parallelism"],
        type=Type.ID,
    )
    stored = hasher.hash(PASSWORD)
    totals: list[tuple[int, float]] = []

    def verify_for_a_while() -> None:
        count, started, cpu = 0, time.perf_counter(), time.thread_time()
        while time.perf_counter() - started < seconds:
            hasher.verify(stored, PASSWORD)
            count += 1
        totals.append((count, time.thread_time() - cpu))

    workers = [threading.Thread(target=verify_for_a_while) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(count for count, _ in totals) / sum(cpu for _, cpu in totals)


# ---------------------------------------------------------------- servers
@contextmanager
def data_stores() -> Iterator[tuple[str, str]]:
    given_db, given_redis = os.environ.get("BENCH_DATABASE_URL"), os.environ.get("BENCH_REDIS_URL")
    with tempfile.TemporaryDirectory(prefix="bench-auth-") as folder:
        postgres = None if given_db else EmbeddedPostgres(Path(folder) / "pg")
        redis = None if given_redis else EmbeddedRedis()
        try:
            yield (given_db or postgres.start()), (given_redis or redis.start())  # type: ignore[union-attr]
        finally:
            if redis is not None:
                redis.stop()
            if postgres is not None:
                postgres.stop()


class Server:
    """One auth service process signing with ``alg``, on a fresh database with a user and a client."""

    def __init__(self, server_url: str, redis_url: str, alg: str, log_dir: Path) -> None:
        self.name = f"bench_auth_{alg.lower()}_{secrets.token_hex(3)}"
        self.server_url = server_url
        self.url = asyncio.run(create_database(server_url, self.name))
        asyncio.run(apply_migrations(self.url, ROOT / "auth_service" / "migrations", "auth_service"))
        kek = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        self.env = {
            "AUTH_DATABASE_URL": self.url,
            "AUTH_REDIS_URL": redis_url,
            "AUTH_REDIS_PREFIX": f"bench:{self.name}:",
            "AUTH_KEY_ENCRYPTION_KEY": kek,
            "AUTH_SIGNING_ALG": alg,
            "AUTH_LOG_LEVEL": "info",
            "AUTH_LOG_FORMAT": "json",
            "AUTH_BOOTSTRAP_ADMIN_EMAIL": EMAIL,
            "AUTH_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
        }
        bootstrap_admin(self.env)
        self.process = ServiceProcess("auth_service", self.env, log_dir).start()
        assert self.process.process is not None
        self.ps = psutil.Process(self.process.process.pid)
        self.token_url = f"{self.process.url}/oauth/token"
        admin = self.login()
        created = httpx.post(
            f"{self.process.url}/api/1/admin/clients/",
            json={"client_name": "bench", "grant_types": ["client_credentials"], "scope": "customers:read"},
            headers={"Authorization": f"Bearer {admin['access_token']}"},
        ).json()
        raw = f"{quote_plus(created['client_id'])}:{quote_plus(created['client_secret'])}"
        self.basic = "Basic " + base64.b64encode(raw.encode()).decode()

    def login(self) -> dict[str, Any]:
        """A token for the auth service's own API (the admin one registers the bench client)."""
        form = {"grant_type": "password", "client_id": "first-party", "username": EMAIL, "password": PASSWORD}
        form["resource"] = "auth"
        response = httpx.post(self.token_url, data=form, timeout=30)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def add_person(self, email: str, password: str = PASSWORD) -> None:
        """A person with the viewer role (no second factor due), made through the admin API."""
        admin = self.login()
        created = httpx.post(
            f"{self.process.url}/api/1/admin/users",
            json={"email": email, "password": password, "roles": ["viewer"]},
            headers={"Authorization": f"Bearer {admin['access_token']}"},
            timeout=30,
        )
        created.raise_for_status()

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def database_cpu_seconds(self) -> float:
        """PostgreSQL backends serving this server (their title names its database)."""
        total = 0.0
        for process in psutil.process_iter(["cmdline"]):
            try:
                if self.name in " ".join(process.info["cmdline"] or ()):
                    times = process.cpu_times()
                    total += times.user + times.system
            except psutil.Error:
                continue
        return total

    def stop(self) -> None:
        self.process.stop()
        asyncio.run(drop_database(self.server_url, self.name))


def row(label: str, run: Run, goal: float | None = None) -> str:
    verdict = "" if goal is None else ("  ok" if run.per_core >= goal else f"  below the goal of {goal:,.0f}")
    return (
        f"{label:<22} {run.rate:>8,.0f}/s   server cpu {run.server_cpu * 100:>4.0f}%   "
        f"per server core {run.per_core:>7,.0f}/s   pg {run.database_cpu * 100:>3.0f}%  "
        f"other {run.other_cpu * 100:>3.0f}%{verdict}"
    )


def print_header(cores: int) -> float:
    """Print what the run measures and the raw argon2 ceiling; return that ceiling per core."""
    loader = "wrk -t1" if USE_WRK else "asyncio loader (install wrk for lighter load generation)"
    print(
        f"== auth token benchmark: {cores} cpu, {SECONDS:.0f} s per run, {CONNECTIONS} connections, {loader}"
    )
    print(
        "   per server core = answers/s divided by the server process CPU share; other = the rest of the box"
    )
    print("   (not this server, its PostgreSQL backends or the load generator): near 0 for clean figures")
    alone, raw = raw_argon2_verifies_per_second(1), raw_argon2_verifies_per_second(cores)
    print(
        f"raw argon2id verify (m={ARGON2['memory_kib']} KiB, t={ARGON2['time_cost']}, p=1): "
        f"{raw:,.1f}/s per core with {cores} threads at once, as the server hashes ({alone:,.1f}/s alone)"
    )
    return raw


def bench_logins(server: Server, raw: float) -> None:
    body = urlencode(
        {"grant_type": "password", "client_id": "first-party", "username": EMAIL, "password": PASSWORD}
    )
    run = measure(server, form_load(server, body, {}), 4, SECONDS)
    print(row("password (logins)", run))
    print(
        f"{'':<22} logins per server core / raw argon2 verifies per core = "
        f"{run.per_core:,.1f} / {raw:,.1f} = {run.per_core / raw * 100:.0f}% (goal >= 85%)"
    )


def bench_server(server: Server, alg: str, raw: float, work: Path) -> None:
    print(f"-- signing {alg}")
    if alg == "RS256":
        bench_logins(server, raw)
    refresh = measure(server, refresh_load(server, work), CONNECTIONS, SECONDS)
    print(row("refresh_token", refresh, 600))
    cc = form_load(server, "grant_type=client_credentials", {"Authorization": server.basic})
    print(row("client_credentials", measure(server, cc, CONNECTIONS, SECONDS), 1200))


def bench_peer(work: Path) -> None:
    if not peer_available():
        print("-- node-oidc-provider peer not installed (../shared/bench-peers/setup.sh); not compared")
        return
    for alg in ("RS256", "EdDSA"):
        peer = OidcPeer(alg, work)
        try:
            print(f"-- peer: node-oidc-provider signing {alg}")
            body = "grant_type=client_credentials&scope=customers%3Aread"
            load = form_load(peer, body, {"Authorization": peer.basic})
            print(row("client_credentials", measure(peer, load, CONNECTIONS, SECONDS)))
        finally:
            peer.stop()


def main() -> None:
    raw = print_header(os.cpu_count() or 1)
    with data_stores() as (database, redis), tempfile.TemporaryDirectory(prefix="bench-auth-") as work:
        for alg in ("RS256", "ES256", "EdDSA"):
            server = Server(database, redis, alg, Path(work))
            try:
                bench_server(server, alg, raw, Path(work))
            finally:
                server.stop()
        bench_peer(Path(work))


if __name__ == "__main__":
    main()
