"""``make run``: the whole system on one machine, in the foreground, stopped by Ctrl-C.

Order of start: data stores (embedded unless ``DATABASE_URL`` / ``REDIS_URL`` name servers),
per-service databases, migrations, the bootstrap admin, then both services as child processes,
each in its own process group. Order of stop: services first (they drain in-flight requests),
then the data stores, so nothing is left running.

What it starts is one row per service in ``SERVICES``: every step walks the rows, so a service is
added by adding a row, not code. Only the issuer's extras (its key-encryption key, the bootstrap
admin, the banner's login hints) are written for the auth service by name.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

from devstack.databases import create_database, with_database
from devstack.embedded import EmbeddedPostgres, EmbeddedRedis, stop_with_parent
from devstack.mailbox import LocalMailbox, local_mailbox

__all__ = ["SERVICES", "Service", "Stack", "main"]

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class Service:
    """One service the stack runs: ``python -m <module> serve`` reading ``<prefix>*`` variables."""

    module: str
    label: str
    prefix: str
    default_port: str
    database: str
    setup: tuple[tuple[str, ...], ...] = (("db", "upgrade"),)
    """CLI commands run, in order, before the service starts."""

    def variable(self, name: str) -> str:
        return f"{self.prefix}{name}"


ISSUER = Service(
    "auth_service",
    "auth service",
    "AUTH_",
    "8000",
    "auth",
    setup=(("db", "upgrade"), ("users", "bootstrap-admin")),
)
SERVICES = (ISSUER, Service("customer_service", "customer service", "CUSTOMER_", "8001", "customers"))


class StackError(RuntimeError):
    pass


@dataclass
class Stack:
    environ: Mapping[str, str]
    data_dir: Path
    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None
    mailbox: LocalMailbox | None = None
    services: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    # ------------------------------------------------------------------ start
    def start_data_stores(self) -> tuple[str, str]:
        database_url = self.environ.get("DATABASE_URL")
        if not database_url:
            self.postgres = EmbeddedPostgres(self.data_dir / "postgres", own_process_group=True)
            database_url = self.postgres.start()
            say(
                f"embedded PostgreSQL on 127.0.0.1:{self.postgres.port} "
                f"(data in {rel(self.postgres.data_dir)})"
            )
        redis_url = self.environ.get("REDIS_URL")
        if not redis_url:
            self.redis = EmbeddedRedis(self.data_dir / "redis", own_process_group=True)
            redis_url = self.redis.start()
            say(f"embedded Redis on 127.0.0.1:{self.redis.port}")
        try:  # a local mail server, unless AUTH_SMTP_HOST names one
            self.mailbox = local_mailbox(self.environ, self.data_dir / "mail")
        except ValueError as exc:
            raise StackError(str(exc)) from None
        if (mailbox := self.mailbox) is not None:
            say(f"local mail server on 127.0.0.1:{mailbox.smtp_port} (messages in {rel(mailbox.folder)})")
        return database_url, redis_url

    def service_environments(self, database_url: str, redis_url: str) -> dict[str, dict[str, str]]:
        """Each service's environment: ours, plus what the stack decides unless it is set already."""
        env = dict(self.environ)
        host = env.get(ISSUER.variable("HOST"), "127.0.0.1")
        port = env.get(ISSUER.variable("PORT"), ISSUER.default_port)
        issuer = env.get(ISSUER.variable("ISSUER")) or f"http://{host}:{port}"
        envs: dict[str, dict[str, str]] = {}
        for service in SERVICES:
            var = service.variable
            envs[service.module] = {
                **env,
                var("PORT"): env.get(var("PORT"), service.default_port),
                var("ISSUER"): env.get(var("ISSUER")) or issuer,
                var("DATABASE_URL"): env.get(var("DATABASE_URL"))
                or with_database(database_url, service.database),
                var("REDIS_URL"): env.get(var("REDIS_URL")) or redis_url,
            }
        envs[ISSUER.module].update(self.issuer_environment(env))
        return envs

    def issuer_environment(self, env: Mapping[str, str]) -> dict[str, str]:
        """The auth service's key-encryption key (made once, kept in the data folder) and admin."""
        kek_file = self.data_dir / "key-encryption-key"
        if not kek_file.exists():
            kek_file.write_text(secrets.token_urlsafe(32) + "\n")
            kek_file.chmod(0o600)
        return {
            "AUTH_KEY_ENCRYPTION_KEY_FILE": env.get("AUTH_KEY_ENCRYPTION_KEY_FILE") or str(kek_file),
            "AUTH_BOOTSTRAP_CREDENTIALS_FILE": str(self.data_dir / "bootstrap-admin.txt"),
            # Apps under development may redirect to an http: address on the LAN.
            "AUTH_ENVIRONMENT": env.get("AUTH_ENVIRONMENT") or "development",
            **(self.mailbox.environment() if self.mailbox else {}),
            # The issue's unprefixed names work too.
            "AUTH_BOOTSTRAP_ADMIN_EMAIL": env.get("AUTH_BOOTSTRAP_ADMIN_EMAIL")
            or env.get("BOOTSTRAP_ADMIN_EMAIL")
            or "admin@example.com",
            "AUTH_BOOTSTRAP_ADMIN_PASSWORD": env.get("AUTH_BOOTSTRAP_ADMIN_PASSWORD")
            or env.get("BOOTSTRAP_ADMIN_PASSWORD", ""),
        }

    def prepare(self, envs: dict[str, dict[str, str]]) -> None:
        for service in SERVICES:
            env = envs[service.module]
            server, name = env[service.variable("DATABASE_URL")].rsplit("/", 1)
            asyncio.run(create_database(server + "/postgres", name.split("?", 1)[0]))
            for command in service.setup:
                run_step([sys.executable, "-m", service.module, *command], env)

    def start_services(self, envs: dict[str, dict[str, str]]) -> None:
        for service in SERVICES:
            self.services[service.module] = subprocess.Popen(
                [sys.executable, "-m", service.module, "serve"],
                env=envs[service.module],
                cwd=ROOT,
                process_group=0,
                preexec_fn=stop_with_parent(signal.SIGTERM),
            )

    def wait_ready(self, envs: dict[str, dict[str, str]], timeout: float = 90.0) -> None:
        pending = {service.module: f"{local_url(service, envs)}/readyz" for service in SERVICES}
        deadline = time.monotonic() + timeout
        while pending:
            for module in list(pending):
                process = self.services[module]
                if process.poll() is not None:
                    raise StackError(f"{module} exited with code {process.returncode}")
                try:
                    if httpx.get(pending[module], timeout=1.0).status_code == 200:
                        del pending[module]
                except httpx.HTTPError:
                    pass
            if time.monotonic() > deadline:
                raise StackError(f"not ready after {timeout:.0f} s: {', '.join(pending)}")
            time.sleep(0.2)

    # ------------------------------------------------------------------- stop
    def stop(self) -> None:
        for process in self.services.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.services.values():
            try:
                process.wait(25)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.mailbox is not None:
            self.mailbox.stop()
        if self.redis is not None:
            self.redis.stop()
        if self.postgres is not None:
            self.postgres.stop()


def local_url(service: Service, envs: dict[str, dict[str, str]]) -> str:
    return f"http://127.0.0.1:{envs[service.module][service.variable('PORT')]}"


def run_step(command: list[str], env: Mapping[str, str]) -> None:
    result = subprocess.run(command, env=dict(env), cwd=ROOT, check=False)
    if result.returncode != 0:
        raise StackError(f"`{' '.join(command[1:])}` failed (exit {result.returncode})")


def say(message: str) -> None:
    print(f"make run: {message}", flush=True)


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def banner(envs: dict[str, dict[str, str]], inbox: str | None = None) -> str:
    urls = "".join(
        f"  {service.label:<21}{url}        (OpenAPI: {url}/schema)\n"
        for service in SERVICES
        for url in [local_url(service, envs)]
    )
    auth, issuer_env = local_url(ISSUER, envs), envs[ISSUER.module]
    credentials = Path(issuer_env["AUTH_BOOTSTRAP_CREDENTIALS_FILE"])
    admin = issuer_env["AUTH_BOOTSTRAP_ADMIN_EMAIL"]
    if issuer_env["AUTH_BOOTSTRAP_ADMIN_PASSWORD"]:
        login = f"  admin                {admin} (password from BOOTSTRAP_ADMIN_PASSWORD)\n"
    elif credentials.exists():
        login = f"  admin credentials    {rel(credentials)} (generated on first run)\n"
    else:
        login = f"  admin                {admin}\n"
    return (
        "\n"
        f"{urls}"
        f"{login}"
        + (f"  mail inbox           {inbox}\n" if inbox else "")
        + f"  account page         {auth}/account   (second factors, passkeys, password)\n"
        + f"  log in (browser)     .venv/bin/auth-service login --issuer {auth}\n"
        f"  log in (no browser)  .venv/bin/auth-service login --issuer {auth} --device\n"
        f"  legacy password      curl -s {auth}/oauth/token -d grant_type=password \\\n"
        "                         -d client_id=first-party \\\n"
        "                         -d username=ADMIN_EMAIL -d password=ADMIN_PASSWORD\n"
        "  stop                 Ctrl-C\n"
    )


def main() -> int:
    stop_requested = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True
        raise KeyboardInterrupt

    # Installed explicitly: a shell starting `make run` in the background hands its children
    # SIGINT ignored, and Python then never raises KeyboardInterrupt on Ctrl-C.
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    data_dir = Path(os.environ.get("DEVSTACK_DATA_DIR", ROOT / ".data")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(os.environ, data_dir)
    try:
        database_url, redis_url = stack.start_data_stores()
        envs = stack.service_environments(database_url, redis_url)
        stack.prepare(envs)
        stack.start_services(envs)
        stack.wait_ready(envs)
        print(banner(envs, stack.mailbox.inbox_url if stack.mailbox else None), flush=True)
        while all(p.poll() is None for p in stack.services.values()):
            time.sleep(0.5)
        failed = [m for m, p in stack.services.items() if p.returncode not in (None, 0)]
        if failed:
            raise StackError(f"{', '.join(failed)} stopped unexpectedly")
        return 0
    except KeyboardInterrupt:
        say("stopping...")
        return 0
    except StackError as exc:
        say(f"error: {exc}")
        return 1
    except Exception as exc:
        say(f"error: {type(exc).__name__}: {exc}")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        say("stopped; nothing left running")


if __name__ == "__main__":
    sys.exit(main())
