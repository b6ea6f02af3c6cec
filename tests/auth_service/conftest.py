"""The auth service under test: a real app (Litestar TestClient) on a fresh migrated database.

Argon2 runs with low costs here (``FAST_ARGON2``) so the suite stays quick; one test module keeps
the real defaults. Seeding goes through the app's own services (the object graph ``build_services``
made, which the app's handlers close over) on the app's event loop.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from auth_service.app import app_for
from auth_service.audit.service import Actor
from auth_service.clients.schemas import ClientCreate, ClientWithSecret
from auth_service.powers.service import AUTH_RESOURCE, OPERATOR_ID
from auth_service.settings import ENV_PREFIX, AuthSettings
from auth_service.users.schemas import User, UserCreate
from auth_service.wiring import AuthServices, build_services
from shared.settings import settings_from_values

FAST_ARGON2: dict[str, Any] = {"argon2_memory_kib": 64, "argon2_time_cost": 1}
ADMIN_EMAIL = "root@example.com"
ADMIN_PASSWORD = "correct horse battery staple"
AGENT_EMAIL = "agent.smith@example.com"
AGENT_PASSWORD = "matrix reloaded violet sunrise"
SYSTEM = Actor(id=OPERATOR_ID)
# What migration 0003 seeds: the auth API's scopes and the customer API's, each sorted.
AUTH_API_SCOPES = [
    "admin:audit",
    "admin:clients",
    "admin:keys",
    "admin:resources",
    "admin:roles",
    "admin:users",
]
CUSTOMER_API_SCOPES = ["customers:delete", "customers:read", "customers:write"]
"""Seeding acts as the operator: unbounded powers, like the CLI."""


def new_kek() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


SettingsFactory = Callable[..., AuthSettings]


@pytest.fixture
def make_settings(auth_db: str, redis_url: str, redis_namespace: str) -> SettingsFactory:
    kek = new_kek()
    prefix = f"{redis_namespace}:{secrets.token_hex(4)}:auth:"

    def make(**overrides: Any) -> AuthSettings:
        values: dict[str, Any] = {
            "database_url": auth_db,
            "redis_url": redis_url,
            "redis_prefix": prefix,
            "key_encryption_key": kek,
            "issuer": "http://auth.test",
            **FAST_ARGON2,
            **overrides,
        }
        return settings_from_values(AuthSettings, values, ENV_PREFIX)

    return make


class AuthClient:
    """A TestClient plus the shortcuts every test needs (seeding, tokens)."""

    def __init__(self, client: TestClient[Litestar], services: AuthServices) -> None:
        self.http = client
        self.services = services

    @property
    def app(self) -> Litestar:
        app: Litestar = self.http.app
        return app

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self.http.blocking_portal.call(lambda: fn(*args, **kwargs))

    def create_user(self, email: str, password: str, roles: list[str]) -> User:
        user: User = self.call(self.services.users.create, UserCreate(email, password, roles), SYSTEM)
        return user

    def create_client(self, **fields: Any) -> ClientWithSecret:
        data = ClientCreate(**{"client_name": "test client", **fields})
        client: ClientWithSecret = self.call(self.services.clients.create, data, SYSTEM)
        return client

    def token(self, data: Mapping[str, str | list[str]], **kwargs: Any) -> httpx.Response:
        """A list value sends the parameter repeated (``resource``, RFC 8707)."""
        return self.http.post("/oauth/token", data=data, **kwargs)

    def login(self, email: str, password: str, **extra: str | list[str]) -> dict[str, Any]:
        response = self.token(
            {
                "grant_type": "password",
                "client_id": "first-party",
                "username": email,
                "password": password,
                **extra,
            }
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def admin_login(self, email: str, password: str, **extra: str | list[str]) -> dict[str, Any]:
        """A login for the auth service's own API (admin and self-service): ``resource=auth``."""
        return self.login(email, password, resource=AUTH_RESOURCE, **extra)

    def bearer(self, access_token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {access_token}"}


@contextmanager
def serving(settings: AuthSettings) -> Iterator[AuthClient]:
    """The app of ``settings`` running (lifespan and all) behind a TestClient."""
    services = build_services(settings)
    with TestClient(app_for(services)) as client:
        yield AuthClient(client, services)


@pytest.fixture
def auth(make_settings: SettingsFactory) -> Iterator[AuthClient]:
    with serving(make_settings()) as client:
        yield client


@pytest.fixture
def seeded(auth: AuthClient) -> AuthClient:
    """An admin and an agent."""
    auth.create_user(ADMIN_EMAIL, ADMIN_PASSWORD, ["admin"])
    auth.create_user(AGENT_EMAIL, AGENT_PASSWORD, ["agent"])
    return auth


def basic(client_id: str, secret: str) -> dict[str, str]:
    from urllib.parse import quote_plus

    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.fixture
def introspector(seeded: AuthClient) -> dict[str, str]:
    """The customer API's own credentials: it may introspect the tokens meant for it."""
    client = seeded.create_client(client_name="resource server", resource_server="customers")
    return basic(client.client_id, client.client_secret or "")
