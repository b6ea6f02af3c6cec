"""Both real services as processes, wired the way `make run` wires them, for end-to-end tests."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ROOT
from tests.processes import ServiceProcess

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple 42"


@dataclass
class Ecosystem:
    auth: ServiceProcess
    customers: ServiceProcess

    def token(self, email: str, password: str, scope: str | None = None) -> str:
        form = {"grant_type": "password", "client_id": "first-party", "username": email, "password": password}
        if scope:
            form["scope"] = scope
        response = httpx.post(self.auth.url + "/oauth/token", data=form, timeout=30)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def admin_token(self) -> str:
        return self.token(ADMIN_EMAIL, ADMIN_PASSWORD)

    def create_user(self, email: str, password: str, roles: list[str]) -> dict[str, Any]:
        response = httpx.post(
            self.auth.url + "/api/1/admin/users",
            timeout=30,
            json={"email": email, "password": password, "roles": roles},
            headers={"Authorization": f"Bearer {self.admin_token()}"},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


def auth_environment(database_url: str, redis_url: str, redis_prefix: str, **extra: str) -> dict[str, str]:
    return {
        "AUTH_DATABASE_URL": database_url,
        "AUTH_REDIS_URL": redis_url,
        "AUTH_REDIS_PREFIX": redis_prefix,
        "AUTH_KEY_ENCRYPTION_KEY": secrets.token_urlsafe(32),
        "AUTH_BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
        "AUTH_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        # OWASP's minimum argon2id cost stays the default; tests keep it.
        **extra,
    }


def bootstrap_admin(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "auth_service", "users", "bootstrap-admin"],
        cwd=ROOT,
        check=True,
        env={**os.environ, **env},
        capture_output=True,
    )


def start_ecosystem(
    auth_env: dict[str, str], customer_database_url: str, log_dir: Path, **customer_extra: str
) -> Ecosystem:
    bootstrap_admin(auth_env)
    auth = ServiceProcess("auth_service", auth_env, log_dir).start()
    customers = ServiceProcess(
        "customer_service",
        {"CUSTOMER_DATABASE_URL": customer_database_url, "CUSTOMER_ISSUER": auth.url, **customer_extra},
        log_dir,
    ).start()
    return Ecosystem(auth, customers)
