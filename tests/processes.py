"""Start the real services as processes (the entry point `make run` uses) for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from devstack.embedded import free_port
from tests.conftest import ROOT

__all__ = ["ServiceProcess"]


class ServiceProcess:
    """``python -m <module> serve`` on a free port, with ``env`` added to this process's environment.

    ``start()`` waits until ``/healthz`` answers (or ``/readyz`` when ``wait_ready``); ``stop()``
    sends SIGTERM (graceful drain) and ``kill()`` SIGKILL. The log is kept in ``log_path`` and
    shown when start-up fails.
    """

    def __init__(self, module: str, env: dict[str, str], log_dir: Path, port: int | None = None) -> None:
        self.module = module
        self.prefix = "AUTH_" if module == "auth_service" else "CUSTOMER_"
        self.port = port or free_port()
        self.env = {
            **os.environ,
            **env,
            f"{self.prefix}PORT": str(self.port),
            f"{self.prefix}LOG_FORMAT": "json",
        }
        self.log_path = log_dir / f"{module}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, wait_ready: bool = True, timeout: float = 60.0) -> ServiceProcess:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module, "serve"],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        path = "/readyz" if wait_ready else "/healthz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.module} exited {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + path, timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(
            f"{self.module} not {'ready' if wait_ready else 'up'} in {timeout} s:\n{self.log()}"
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
