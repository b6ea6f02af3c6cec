"""SSO round trips per server core: our auth service against node-oidc-provider, in one run.

A round trip is what an app costs the provider each time a person who is already logged in opens
it: ``/oauth/authorize`` with the live session cookie -> code (303) -> token exchange with PKCE
(access token + id_token). ``../shared/bench-peers/sso_flow.py`` drives both providers the same way
(each worker logs in once through the provider's own form, then repeats the round trip) and is run
here, not copied; it prints round trips/s, per server core, p50/p99 and errors. Goal: ours >= 1.0x
node-oidc-provider per core with the same algorithm, RS256 and EdDSA, and a p99 no worse. That
peer keeps its sessions, grants and codes in process memory (its development adapter); the same
provider with them in PostgreSQL, as ours are (``oidc_peer_postgres.mjs``, needs ``pg`` beside
``oidc-provider``), runs in the same rounds for comparison.

Run: .venv/bin/python -m bench.auth_sso   [BENCH_SECONDS=8 BENCH_CONCURRENCY=8 BENCH_ROUNDS=2]
Uses BENCH_DATABASE_URL / BENCH_REDIS_URL (server URLs) when set, else embedded servers. The peer
needs node and ``oidc-provider`` in ``PEERS_NODE_DIR`` (``../shared/bench-peers/setup.sh``).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from bench.auth_oidc_peer import NODE_DIR, RP_CLIENT_ID, RP_REDIRECT_URI, OidcPeer, peer_available
from bench.auth_tokens import PASSWORD, PERSON, Server, data_stores
from devstack.databases import create_database, drop_database

SSO_FLOW = Path(__file__).resolve().parents[2] / "shared" / "bench-peers" / "sso_flow.py"
SECONDS = os.environ.get("BENCH_SECONDS", "8")
CONCURRENCY = os.environ.get("BENCH_CONCURRENCY", "8")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
ALGORITHMS = ("RS256", "EdDSA")
_FIGURES = re.compile(r"per server core\s+([\d.]+)/s.*p99\s+([\d.na]+) ms.*errors (\d+)")
NODE, NODE_PG = "node-oidc-provider", "node-oidc + pg"
"""The goal's peer (in-memory models, development-only by its README), and the same provider
with its models in PostgreSQL as ours are (``oidc_peer_postgres.mjs``), for comparison."""


@dataclass
class Target:
    """A provider sso_flow.py can drive: its discovery, the origin to call, its process."""

    label: str
    discovery: str
    base_url: str
    pid: int
    username: str = "bench-user"
    password: str = "bench-password"  # node-oidc-provider's development login takes any


def register_app(server: Server) -> None:
    """The peer's client on our service: a public, first-party app (no consent page), PKCE."""
    admin = server.login()
    created = httpx.post(
        f"{server.process.url}/api/1/admin/clients/",
        json={
            "client_id": RP_CLIENT_ID,
            "client_name": "SSO benchmark app",
            "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "none",
            "redirect_uris": [RP_REDIRECT_URI],
            "scope": "customers:read",
            "first_party": True,
        },
        headers={"Authorization": f"Bearer {admin['access_token']}"},
        timeout=30,
    )
    created.raise_for_status()


def ours(server: Server) -> Target:
    register_app(server)
    server.add_person(PERSON)
    url = server.process.url
    assert server.process.process is not None
    return Target(
        "ours", f"{url}/.well-known/openid-configuration", url, server.process.process.pid, PERSON, PASSWORD
    )


def pin(pid: int, cpus: set[int]) -> None:
    """Keep a process, its threads and its children on ``cpus`` (Linux; elsewhere the scheduler
    decides). Threads are pinned one by one: a thread started before keeps its own affinity."""
    if hasattr(os, "sched_setaffinity"):
        process = psutil.Process(pid)
        for each in (process, *process.children(recursive=True)):
            for thread in each.threads():
                os.sched_setaffinity(thread.id, cpus)


def sso_flow(target: Target) -> str:
    """sso_flow.py's one line for ``target`` (the load runs in its own process). With two CPUs or
    more, the provider runs alone on the last one and the load on the others, so neither provider
    shares its core with the load generator (or with the other's run)."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) >= 2:
        pin(target.pid, {cpus[-1]})
    done = subprocess.run(
        [
            *(
                ["taskset", "-c", ",".join(map(str, cpus[:-1]))]
                if len(cpus) >= 2 and shutil.which("taskset")
                else []
            ),
            sys.executable,
            str(SSO_FLOW),
            *("--discovery", target.discovery, "--base-url", target.base_url),
            *("--client-id", RP_CLIENT_ID, "--redirect-uri", RP_REDIRECT_URI),
            *("--username", target.username, "--password", target.password),
            *("--server-pid", str(target.pid), "--seconds", SECONDS, "--concurrency", CONCURRENCY),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        return f"failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}"
    return done.stdout.strip()


def summary(results: dict[tuple[str, str], list[str]]) -> None:
    """Best and median round per side (rounds are interleaved, so drift hits both), worst p99."""
    print("== per server core: best round, median round; p99: worst round")
    for alg in ALGORITHMS:
        rates: dict[str, list[float]] = {}
        p99s: dict[str, float] = {}
        for label in ("ours", NODE, NODE_PG):
            figures = [m.groups() for line in results.get((alg, label), []) if (m := _FIGURES.search(line))]
            if figures:
                rates[label] = [float(f[0]) for f in figures]
                p99s[label] = max(float(f[1]) for f in figures)
        if "ours" not in rates or len(rates) < 2:
            print(f"{alg:<6} not compared: {', '.join(rates) or 'nothing'} measured")
            continue
        mine = rates["ours"]
        for label, peer in ((label, rates[label]) for label in (NODE, NODE_PG) if label in rates):
            best, median = max(mine) / max(peer), statistics.median(mine) / statistics.median(peer)
            print(
                f"{alg:<6} ours {max(mine):7.1f}/s (median {statistics.median(mine):6.1f})  "
                f"{label} {max(peer):7.1f}/s (median {statistics.median(peer):6.1f})  ratio best "
                f"{best:4.2f}x, median {median:4.2f}x"
                + (" (goal >= 1.0)" if label == NODE else "")
                + f"  p99 ours {p99s['ours']:6.1f} ms, {label} {p99s[label]:6.1f} ms"
            )


def start_peers(database: str, work: Path, running: ExitStack) -> dict[tuple[str, str], OidcPeer]:
    """The in-memory peer per algorithm and, with ``pg`` installed, the PostgreSQL-backed one (in
    a database of its own); each stopped, and the database dropped, when ``running`` closes."""
    if not peer_available():
        print("-- node-oidc-provider peer not installed (../shared/bench-peers/setup.sh); ours alone")
        return {}
    kinds: list[tuple[str, str | None]] = [(NODE, None)]
    if peer_available(postgres=True):
        name = f"bench_oidc_peer_{os.getpid()}"
        kinds.append((NODE_PG, asyncio.run(create_database(database, name))))
        running.callback(lambda: asyncio.run(drop_database(database, name)))
    else:
        print(f"-- no pg package in {NODE_DIR}: the PostgreSQL-backed peer is left out (npm install pg)")
    peers = {}
    for label, url in kinds:
        for alg in ALGORITHMS:
            peer = OidcPeer(alg, work / label.replace(" ", ""), code_flow=url is None, database_url=url)
            running.callback(peer.stop)
            peers[alg, label] = peer
    return peers


def main() -> None:
    if not SSO_FLOW.exists():
        sys.exit(f"{SSO_FLOW} is missing: it drives both providers")
    print(
        f"== SSO round trips: {os.cpu_count()} cpu, {SECONDS} s per run, "
        f"{CONCURRENCY} workers, {ROUNDS} rounds"
    )
    results: dict[tuple[str, str], list[str]] = {}
    with data_stores() as (database, redis), ExitStack() as running:
        work = Path(running.enter_context(tempfile.TemporaryDirectory(prefix="bench-sso-")))
        targets = []
        for alg in ALGORITHMS:
            server = Server(database, redis, alg, work)
            running.callback(server.stop)
            targets.append((alg, ours(server)))
        for (alg, label), peer in start_peers(database, work, running).items():
            targets.append(
                (
                    alg,
                    Target(label, f"{peer.url}/.well-known/openid-configuration", peer.url, peer.process.pid),
                )
            )
        for round_ in range(1, ROUNDS + 1):
            for alg, target in targets:  # interleaved: drift on a shared box hits both
                line = sso_flow(target)
                results.setdefault((alg, target.label), []).append(line)
                print(f"round {round_} {alg:<6} {target.label:<18} {line}")
    summary(results)


if __name__ == "__main__":
    main()
