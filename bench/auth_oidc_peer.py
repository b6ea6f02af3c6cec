"""node-oidc-provider (the peer in ``../shared/bench-peers``) as a client_credentials target.

Started only when node and the peer's ``node_modules`` are present (``../shared/bench-peers/setup.sh``
installs them into ``PEERS_NODE_DIR``, default ``/tmp/peers-node``); it signs with keys made here,
so the comparison needs nothing else from that harness.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

from devstack.embedded import free_port

__all__ = ["RP_CLIENT_ID", "RP_REDIRECT_URI", "OidcPeer", "peer_available"]

ROOT = Path(__file__).resolve().parents[1]
PEER_SCRIPT = ROOT.parent / "shared" / "bench-peers" / "oidc_peer.mjs"
POSTGRES_PEER_SCRIPT = ROOT / "bench" / "oidc_peer_postgres.mjs"
NODE_DIR = Path(os.environ.get("PEERS_NODE_DIR", "/tmp/peers-node"))  # noqa: S108 - the harness default
CLIENT_ID, CLIENT_SECRET = "bench", "bench-secret"
RP_CLIENT_ID, RP_REDIRECT_URI = "bench-rp", "http://127.0.0.1:59999/callback"


def peer_available(*, postgres: bool = False) -> bool:
    """``postgres``: the production-like SSO peer (``oidc_peer_postgres.mjs``) needs ``pg`` too."""
    modules = NODE_DIR / "node_modules"
    return (
        bool(shutil.which("node"))
        and PEER_SCRIPT.exists()
        and (modules / "oidc-provider").exists()
        and (not postgres or (modules / "pg").exists())
    )


def _private_jwks() -> dict[str, Any]:
    keys = []
    rsa_jwk = RSAAlgorithm.to_jwk(
        rsa.generate_private_key(public_exponent=65537, key_size=2048), as_dict=True
    )
    ed_jwk = OKPAlgorithm.to_jwk(ed25519.Ed25519PrivateKey.generate(), as_dict=True)
    for jwk, kid, alg in ((rsa_jwk, "rs256-1", "RS256"), (ed_jwk, "ed25519-1", "EdDSA")):
        jwk.pop("key_ops", None)
        keys.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})
    return {"keys": keys}


class OidcPeer:
    """``node oidc_peer.mjs`` signing with ``alg`` (RS256 or EdDSA), in its own process group.

    ``code_flow`` also serves the authorization code flow (``OIDC_CODE_FLOW=1``) for the public
    client ``RP_CLIENT_ID`` through its development login pages, for ``bench.auth_sso``;
    ``database_url`` runs ``oidc_peer_postgres.mjs`` instead: that flow only, its models kept in
    that PostgreSQL database rather than in memory.
    """

    def __init__(
        self, alg: str, work: Path, *, code_flow: bool = False, database_url: str | None = None
    ) -> None:
        data = work / f"peer-{alg.lower()}"
        data.mkdir(parents=True, exist_ok=True)
        private = data / "jwks-private.json"
        private.write_text(json.dumps(_private_jwks()))
        private.chmod(0o600)
        source = PEER_SCRIPT if database_url is None else POSTGRES_PEER_SCRIPT
        script = NODE_DIR / source.name
        shutil.copyfile(source, script)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token_url = f"{self.url}/token"
        env = {
            **os.environ,
            "PORT": str(self.port),
            "PEERS_DATA": str(data),
            "OIDC_ALG": alg,
            "CLIENT_ID": CLIENT_ID,
            "CLIENT_SECRET": CLIENT_SECRET,
            **(
                {"OIDC_CODE_FLOW": "1", "RP_CLIENT_ID": RP_CLIENT_ID, "RP_REDIRECT_URI": RP_REDIRECT_URI}
                if code_flow or database_url
                else {}
            ),
            **({"DATABASE_URL": database_url} if database_url else {}),
        }
        self.process = subprocess.Popen(
            ["node", str(script)],
            cwd=NODE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.ps = psutil.Process(self.process.pid)
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("node-oidc-provider did not start") from None
                time.sleep(0.1)
        self.basic = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()

    def cpu_seconds(self) -> float:
        """The whole process: node signs on its libuv thread pool, so it may use more than one core."""
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def database_cpu_seconds(self) -> float:
        return 0.0

    def login(self) -> dict[str, Any]:
        raise NotImplementedError("the peer only serves client_credentials")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
