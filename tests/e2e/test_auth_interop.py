"""The real auth service process, used the way third-party software uses it.

A token it issues verifies with joserfc (not PyJWT), configured only from the discovery document
and the JWKS fetched over HTTP; refresh, client_credentials and revocation work over real HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.auth_service.conftest import new_kek
from tests.ecosystem import bootstrap_admin
from tests.processes import ServiceProcess

pytestmark = pytest.mark.e2e

ADMIN = ("interop.admin@example.com", "interoperable passphrase here")


@pytest.fixture
def service(auth_db: str, redis_url: str, redis_namespace: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    env = {
        "AUTH_DATABASE_URL": auth_db,
        "AUTH_REDIS_URL": redis_url,
        "AUTH_REDIS_PREFIX": f"{redis_namespace}:e2e:",
        "AUTH_KEY_ENCRYPTION_KEY": new_kek(),
        "AUTH_ARGON2_MEMORY_KIB": "1024",
        "AUTH_ARGON2_TIME_COST": "1",
        "AUTH_BOOTSTRAP_ADMIN_EMAIL": ADMIN[0],
        "AUTH_BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1],
    }
    bootstrap_admin(env)
    process = ServiceProcess("auth_service", env, tmp_path).start()
    try:
        yield process
    finally:
        process.stop()


def test_token_verifies_with_joserfc_from_discovery_and_jwks_only(service: ServiceProcess) -> None:
    with httpx.Client(base_url=service.url, timeout=10) as http:
        metadata = http.get("/.well-known/openid-configuration").json()
        assert metadata == http.get("/.well-known/oauth-authorization-server").json()
        assert metadata["issuer"] == service.url
        login = http.post(
            metadata["token_endpoint"].removeprefix(service.url),
            data={
                "grant_type": "password",
                "client_id": "first-party",
                "username": ADMIN[0],
                "password": ADMIN[1],
            },
        )
        assert login.status_code == 200, login.text
        tokens = login.json()

    # From here on, only what a third party would have: the issuer URL.
    metadata = httpx.get(f"{service.url}/.well-known/openid-configuration").json()
    key_set = KeySet.import_key_set(httpx.get(metadata["jwks_uri"]).json())
    verified = jwt.decode(
        tokens["access_token"], key_set, algorithms=metadata["access_token_signing_alg_values_supported"]
    )
    assert verified.header["typ"] == "at+jwt"
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": metadata["issuer"]},
        aud={"essential": True, "value": "customers"},
        sub={"essential": True},
        exp={"essential": True},
        jti={"essential": True},
    ).validate(verified.claims)
    assert "customers:read" in verified.claims["scope"].split()
    assert verified.claims["roles"] == ["admin"]


def test_full_token_lifecycle_over_http(service: ServiceProcess) -> None:
    with httpx.Client(base_url=service.url, timeout=10) as http:
        tokens = http.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": "first-party",
                "username": ADMIN[0],
                "password": ADMIN[1],
                "resource": "auth",  # the admin API's audience
            },
        ).json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        client = http.post(
            "/api/1/admin/clients/",
            json={"client_name": "reports", "grant_types": ["client_credentials"], "scope": "customers:read"},
            headers=bearer,
        ).json()
        service_token = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client["client_id"], client["client_secret"]),
        )
        assert service_token.status_code == 200
        assert service_token.json()["scope"] == "customers:read"
        rotated = http.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "client_id": "first-party",
                "refresh_token": tokens["refresh_token"],
            },
        )
        assert rotated.status_code == 200
        revoked = http.post(
            "/oauth/revoke", data={"token": rotated.json()["refresh_token"], "client_id": "first-party"}
        )
        assert revoked.status_code == 200
        introspected = http.post(
            "/oauth/introspect",
            data={"token": rotated.json()["access_token"]},
            auth=(client["client_id"], client["client_secret"]),
        )
        assert introspected.json() == {"active": False}
        schema = http.get("/schema/openapi.json").json()
        operations = [op for path in schema["paths"].values() for op in path.values()]
        assert all(op.get("operationId") for op in operations)
        assert "/oauth/token" in schema["paths"]
