"""The real auth service as an OpenID provider for the browser and independent-client tests.

One process per test module, on a database cloned from the migrated template, with a cheap argon2
cost (the login form's cost is measured in ``bench/auth_login_pages.py``, not here). The admin's
password-grant token registers the clients and people the flows need, through the admin API, as an
operator would.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx

from devstack.databases import create_database, drop_database
from tests.ecosystem import auth_environment, bootstrap_admin
from tests.processes import ServiceProcess

__all__ = ["ADMIN", "Provider", "running_provider"]

ADMIN = ("oidc.admin@example.com", "operator passphrase for the oidc tests")
JsonObject = dict[str, Any]


class Provider:
    """A running auth service and what its admin can do to it."""

    __slots__ = ("_admin_token", "process")

    def __init__(self, process: ServiceProcess) -> None:
        self.process = process
        self._admin_token: str | None = None

    @property
    def issuer(self) -> str:
        return self.process.url

    def metadata(self) -> JsonObject:
        answer = httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=10)
        assert answer.status_code == 200, answer.text
        body: JsonObject = answer.json()
        return body

    def _admin(self) -> dict[str, str]:
        if self._admin_token is None:
            answer = httpx.post(
                f"{self.issuer}/oauth/token",
                data={
                    "grant_type": "password",
                    "client_id": "first-party",
                    "username": ADMIN[0],
                    "password": ADMIN[1],
                    "resource": "auth",
                },
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
            self._admin_token = str(answer.json()["access_token"])
        return {"Authorization": f"Bearer {self._admin_token}"}

    def register_client(self, name: str, redirect_uri: str, **members: Any) -> JsonObject:
        """A client of the authorization code flow (RFC 7591 members); ``members`` adds or
        overrides (``first_party``, ``token_endpoint_auth_method``, ``grant_types``...)."""
        body = {
            "client_name": name,
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [redirect_uri],
            "scope": "customers:read",
            **members,
        }
        answer = httpx.post(
            f"{self.issuer}/api/1/admin/clients/", json=body, headers=self._admin(), timeout=30
        )
        assert answer.status_code == 201, answer.text
        created: JsonObject = answer.json()
        return created

    def create_person(self, password: str, **profile: Any) -> JsonObject:
        """A person with the viewer role (``customers:read``) and the profile claims given
        (``name``, ``email_verified``... set by the admin); a fresh email each time."""
        email = f"person.{uuid.uuid4().hex[:10]}@example.com"
        answer = httpx.post(
            f"{self.issuer}/api/1/admin/users",
            json={"email": email, "password": password, "roles": ["viewer"]},
            headers=self._admin(),
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        user: JsonObject = answer.json()
        if profile:
            url = f"{self.issuer}/api/1/admin/users/{user['id']}"
            patched = httpx.patch(url, json=profile, headers=self._admin(), timeout=30)
            assert patched.status_code == 200, patched.text
            user = patched.json()
        return user


@contextmanager
def running_provider(
    pg_server_url: str,
    auth_template: str,
    redis_url: str,
    redis_namespace: str,
    log_dir: Path,
    extra: Mapping[str, str] = MappingProxyType({}),
    port: int | None = None,
) -> Iterator[Provider]:
    """The auth service as ``make run`` starts it, issuer ``http://127.0.0.1:<port>`` (``port``:
    a chosen one, for settings that must name it, such as ``AUTH_ISSUER``)."""
    name = f"oidc_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    database = asyncio.run(create_database(pg_server_url, name, template=auth_template))
    try:
        env = auth_environment(
            database,
            redis_url,
            f"{redis_namespace}:{name}:",
            AUTH_ARGON2_MEMORY_KIB="1024",
            AUTH_ARGON2_TIME_COST="1",
            AUTH_BOOTSTRAP_ADMIN_EMAIL=ADMIN[0],
            AUTH_BOOTSTRAP_ADMIN_PASSWORD=ADMIN[1],
            **extra,
        )
        bootstrap_admin(env)
        process = ServiceProcess("auth_service", env, log_dir, port).start()
        try:
            yield Provider(process)
        finally:
            process.stop()
    finally:
        asyncio.run(drop_database(pg_server_url, name))
