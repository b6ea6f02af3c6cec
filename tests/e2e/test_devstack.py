"""`make run`'s stack, as a newcomer gets it: embedded servers, both services, Ctrl-C stops all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from devstack.embedded import free_port
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


def _stack_env(data_dir: Path, auth_port: int, customer_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DEVSTACK_DATA_DIR=str(data_dir),
        AUTH_PORT=str(auth_port),
        CUSTOMER_PORT=str(customer_port),
        AUTH_LOG_FORMAT="json",
        CUSTOMER_LOG_FORMAT="json",
    )
    return env


class Stack:
    """``python -m devstack`` (what ``make run`` runs) in its own session, output to a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with open(log, "w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "devstack"],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # As a shell's background job gets it (fresh-clone-check runs `make run &`):
                # SIGINT inherited as ignored. Ctrl-C must still stop everything.
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
            )

    @property
    def output(self) -> str:
        return self.log.read_text()

    def wait_for_banner(self, ports: tuple[int, int], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output
            if "stop                 Ctrl-C" in self.output:
                for port in ports:
                    assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
                return
            time.sleep(0.3)
        pytest.fail(f"stack not ready in time:\n{self.output}")

    def ctrl_c(self) -> int:
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=60)


@pytest.fixture
def ports() -> tuple[int, int]:
    return free_port(), free_port()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_stack_serves_then_stops_everything_and_reuses_its_data(
    data_dir: Path, ports: tuple[int, int]
) -> None:
    env = _stack_env(data_dir, *ports)
    stack = Stack(env, data_dir.parent / "run1.log")
    stack.wait_for_banner(ports)
    children = psutil.Process(stack.process.pid).children(recursive=True)
    assert len(children) >= 4  # PostgreSQL (with its workers), Redis, two services
    assert stack.ctrl_c() == 0, stack.output
    assert f"http://127.0.0.1:{ports[0]}/schema" in stack.output
    psutil.wait_procs(children, timeout=10)
    assert [c.pid for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE] == []
    for port in ports:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)

    pg_version = (data_dir / "postgres" / "PG_VERSION").stat().st_mtime_ns
    kek = (data_dir / "key-encryption-key").read_text()
    stack = Stack(env, data_dir.parent / "run2.log")
    stack.wait_for_banner(ports)
    assert stack.ctrl_c() == 0
    assert (data_dir / "postgres" / "PG_VERSION").stat().st_mtime_ns == pg_version
    assert (data_dir / "key-encryption-key").read_text() == kek


def test_port_in_use_is_one_clear_error(data_dir: Path, ports: tuple[int, int]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports[0]))
        taken.listen(1)
        stack = Stack(_stack_env(data_dir, *ports), data_dir.parent / "run.log")
        returncode = stack.process.wait(timeout=120)
        output = stack.output
    assert returncode == 1
    assert f"auth-service: 127.0.0.1:{ports[0]} is already in use; set AUTH_PORT to a free port" in output
    assert "Traceback" not in output
