"""`make run`'s stack, as a newcomer gets it: embedded servers, both services, Ctrl-C stops all."""

from __future__ import annotations

import html
import os
import re
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


_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def _csrf(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert page.status_code == 200, page.text[:300]
    assert found, page.text[:300]
    return found.group(1)


def _reset_link(inbox: str, deadline: float) -> str:
    """The link of the newest message at the inbox page, once the outbox has delivered it."""
    while time.monotonic() < deadline:
        listed = re.search(r'href="(/message/[^"]+)"', httpx.get(inbox, timeout=5).text)
        if listed:
            message = httpx.get(inbox.rstrip("/") + listed.group(1), timeout=5).text
            link = re.search(r'href="(http://127\.0\.0\.1:\d+/password/reset\?token=[^"]+)"', message)
            assert link, message[:500]
            return html.unescape(link.group(1))
        time.sleep(0.3)
    pytest.fail("no mail reached the inbox")


def test_the_readme_walkthrough_on_a_fresh_stack(data_dir: Path, ports: tuple[int, int]) -> None:
    """What the README's walkthrough asks of a newcomer: the banner's admin logs in on the account
    page and is made to set up a second factor first (the admin role requires one), and a forgotten
    password comes back through the stack's own inbox."""
    inbox_port = free_port()
    stack = Stack(
        {**_stack_env(data_dir, *ports), "INBOX_PORT": str(inbox_port)}, data_dir.parent / "run.log"
    )
    try:
        stack.wait_for_banner(ports)
        auth, inbox = f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{inbox_port}/"
        assert f"mail inbox           {inbox}" in stack.output
        assert f"account page         {auth}/account" in stack.output
        admin = dict(
            line.split("=", 1) for line in (data_dir / "bootstrap-admin.txt").read_text().splitlines()
        )
        with httpx.Client(base_url=auth, follow_redirects=False, timeout=30) as http:
            page = http.get("/login", params={"return_to": "/account"})
            login = {"return_to": "/account", "email": admin["email"], "password": admin["password"]}
            answer = http.post("/login", data={"_csrf_token": _csrf(page), **login})
            assert answer.status_code == 303, answer.text[:300]
            assert answer.headers["location"].startswith("/login/second-factor")
            enrol = http.get(answer.headers["location"])
            assert enrol.status_code == 200
            assert "<svg" in enrol.text  # the QR code
            assert 'id="setup_code"' in enrol.text
            forgot = http.get("/password/forgot")
            asked = http.post(
                "/password/forgot", data={"_csrf_token": _csrf(forgot), "email": admin["email"]}
            )
            assert asked.status_code == 200
            reset = http.get(_reset_link(inbox, time.monotonic() + 30).removeprefix(auth))
            assert reset.status_code == 200
            assert 'type="password"' in reset.text
    finally:
        assert stack.ctrl_c() == 0, stack.output
