"""Both real services as processes, wired the way `make run` wires them, for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx

from devstack.databases import create_database, drop_database
from tests.conftest import ROOT
from tests.processes import ServiceProcess

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple 42"


@dataclass
class Ecosystem:
    auth: ServiceProcess
    customers: ServiceProcess
    replicas: list[ServiceProcess]
    """Every customer-service process (``customers`` is the first), on one database and one Redis."""

    def token(
        self, email: str, password: str, scope: str | None = None, resources: tuple[str, ...] = ()
    ) -> str:
        """Without ``scope`` or ``resources``, a token for the first-party client's default
        audience: the customer API."""
        form: dict[str, str | list[str]] = {
            "grant_type": "password",
            "client_id": "first-party",
            "username": email,
            "password": password,
        }
        if scope:
            form["scope"] = scope
        if resources:
            form["resource"] = list(resources)  # RFC 8707: repeated
        response = httpx.post(self.auth.url + "/oauth/token", data=form, timeout=30)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def admin_token(self) -> str:
        """The admin's token for both APIs (auth admin and customers): the tests use one for either."""
        return self.token(ADMIN_EMAIL, ADMIN_PASSWORD, resources=("auth", "customers"))

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
    """``auth_service users bootstrap-admin`` with ``env`` (migrations already applied)."""
    done = subprocess.run(
        [sys.executable, "-m", "auth_service", "users", "bootstrap-admin"],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@contextmanager
def running_ecosystem(
    pg_server_url: str,
    templates: tuple[str, str],
    redis_url: str,
    redis_namespace: str,
    log_dir: Path,
    *,
    name: str,
    auth_extra: Mapping[str, str] = MappingProxyType({}),
    customer_extra: Mapping[str, str] = MappingProxyType({}),
    customer_replicas: int = 1,
) -> Iterator[Ecosystem]:
    """Both services on databases of their own (cloned from the migrated ``templates``: auth,
    customers) and a Redis prefix of their own, which the customer service follows for
    revocations; stopped and dropped afterwards."""
    tag = f"{name}_{uuid.uuid4().hex[:8]}"
    names = (f"{tag}_auth", f"{tag}_customers")
    try:
        auth_url = asyncio.run(create_database(pg_server_url, names[0], template=templates[0]))
        customer_url = asyncio.run(create_database(pg_server_url, names[1], template=templates[1]))
        prefix = f"{redis_namespace}:{tag}:"
        env = auth_environment(auth_url, redis_url, prefix, **auth_extra)
        bootstrap_admin(env)
        auth = ServiceProcess("auth_service", env, log_dir).start()
        customer_env = {
            "CUSTOMER_DATABASE_URL": customer_url,
            "CUSTOMER_ISSUER": auth.url,
            "CUSTOMER_REDIS_URL": redis_url,
            "CUSTOMER_REDIS_PREFIX": prefix,
            **customer_extra,
        }
        replicas: list[ServiceProcess] = []
        try:
            for _ in range(customer_replicas):
                replicas.append(ServiceProcess("customer_service", customer_env, log_dir).start())
            yield Ecosystem(auth, replicas[0], replicas)
        finally:
            for replica in replicas:
                replica.stop()
            auth.stop()
    finally:
        for db in names:
            asyncio.run(drop_database(pg_server_url, db))
