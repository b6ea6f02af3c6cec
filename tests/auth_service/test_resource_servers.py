"""Resource servers (RFC 8707 audiences): the admin API, the CLI, and the in-memory registry the
token endpoint reads (loaded at start, reloaded after a local change and periodically)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import asyncpg
import pytest

from auth_service.roles.schemas import RoleCreate
from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    AUTH_API_SCOPES,
    SYSTEM,
    AuthClient,
    SettingsFactory,
    basic,
    serving,
)
from tests.auth_service.test_cli import cli_env, run
from tests.auth_service.test_signing_keys import wait_for
from tests.auth_service.test_token_grants import assert_oauth_error, claims_of

SERVERS = "/api/1/admin/resource-servers/"
BILLING = {"identifier": "billing", "name": "Billing API", "scopes": ["billing:write", "billing:read"]}
URI = "https://billing.example.com/api/"


@pytest.fixture
def admin(seeded: AuthClient) -> dict[str, str]:
    return seeded.bearer(seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])


def one(identifier: str) -> str:
    return SERVERS + quote(identifier, safe="")


def assert_problem(response: Any, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/" + slug)


async def _rows(database_url: str, statement: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch(statement, *args)
    finally:
        await conn.close()


def client_credentials(auth: AuthClient, resource: str, scope: str) -> Any:
    client = auth.create_client(scope=scope, resources=[resource])
    return auth.token(
        {"grant_type": "client_credentials", "resource": resource},
        headers=basic(client.client_id, client.client_secret or ""),
    )


# ---------------------------------------------------------------- admin API
def test_the_seeded_servers_are_listed(seeded: AuthClient, admin: dict[str, str]) -> None:
    listed = seeded.http.get(SERVERS, headers=admin)
    assert listed.status_code == 200, listed.text
    by_id = {s["identifier"]: s for s in listed.json()}
    assert set(by_id) == {"auth", "customers"}
    assert by_id["auth"]["managed"] is True
    assert by_id["auth"]["scopes"] == AUTH_API_SCOPES
    assert by_id["customers"] == {
        **by_id["customers"],
        "managed": False,
        "scopes": ["customers:delete", "customers:read", "customers:write"],
        "access_token_ttl": None,
    }


def test_create_get_update_delete(seeded: AuthClient, admin: dict[str, str]) -> None:
    created = seeded.http.post(SERVERS, json={**BILLING, "access_token_ttl": 300}, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["identifier"] == "billing"
    assert body["scopes"] == ["billing:read", "billing:write"]
    assert body["access_token_ttl"] == 300
    assert body["managed"] is False
    assert seeded.http.get(one("billing"), headers=admin).json() == body
    patched = seeded.http.patch(
        one("billing"),
        json={"name": "Billing", "scopes": ["billing:read", "billing:refund"], "access_token_ttl": None},
        headers=admin,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["scopes"] == ["billing:read", "billing:refund"]
    assert patched.json()["access_token_ttl"] is None  # back to AUTH_ACCESS_TOKEN_TTL
    assert patched.json()["name"] == "Billing"
    assert seeded.http.patch(one("billing"), json={"name": "B"}, headers=admin).json()["scopes"] == [
        "billing:read",
        "billing:refund",
    ]
    assert seeded.http.delete(one("billing"), headers=admin).status_code == 204
    assert_problem(seeded.http.get(one("billing"), headers=admin), 404, "not-found")
    events = seeded.http.get(
        "/api/1/admin/audit-events/", params={"target_id": "billing"}, headers=admin
    ).json()["items"]
    actions = [e["action"] for e in events]
    assert actions == [
        "resource_server.delete",
        "resource_server.update",
        "resource_server.update",
        "resource_server.create",
    ]
    admin_id = seeded.http.get("/api/1/users/me", headers=admin).json()["id"]
    assert {e["actor"] for e in events} == {admin_id}


def test_an_absolute_uri_is_one_encoded_path_segment(seeded: AuthClient, admin: dict[str, str]) -> None:
    created = seeded.http.post(SERVERS, json={"identifier": URI, "name": "Billing by URI"}, headers=admin)
    assert created.status_code == 201, created.text
    assert seeded.http.get(one(URI), headers=admin).json()["identifier"] == URI
    assert seeded.http.patch(one(URI), json={"access_token_ttl": 60}, headers=admin).status_code == 200
    assert seeded.http.delete(one(URI), headers=admin).status_code == 204
    assert_problem(seeded.http.get(one(URI), headers=admin), 404, "not-found")


def test_conflicts(seeded: AuthClient, admin: dict[str, str]) -> None:
    assert seeded.http.post(SERVERS, json=BILLING, headers=admin).status_code == 201
    assert_problem(seeded.http.post(SERVERS, json=BILLING, headers=admin), 409, "resource-server-exists")
    taken = seeded.http.post(
        SERVERS, json={"identifier": "ledger", "name": "Ledger", "scopes": ["customers:read"]}, headers=admin
    )
    assert_problem(taken, 409, "scope-taken")
    assert "customers:read" in taken.json()["detail"]
    assert_problem(seeded.http.get(one("ledger"), headers=admin), 404, "not-found")  # rolled back
    grabbed = seeded.http.patch(
        one("billing"), json={"scopes": ["billing:read", "admin:users"]}, headers=admin
    )
    assert_problem(grabbed, 409, "scope-taken")
    assert seeded.http.get(one("billing"), headers=admin).json()["scopes"] == [
        "billing:read",
        "billing:write",
    ]


def test_the_auth_service_s_own_api_is_managed(seeded: AuthClient, admin: dict[str, str]) -> None:
    assert_problem(seeded.http.patch(one("auth"), json={"name": "x"}, headers=admin), 409, "managed-resource")
    assert_problem(seeded.http.delete(one("auth"), headers=admin), 409, "managed-resource")
    assert seeded.http.get(one("auth"), headers=admin).json()["name"].startswith("Identity provider")


def test_a_scope_still_held_cannot_go(seeded: AuthClient, admin: dict[str, str]) -> None:
    assert seeded.http.post(SERVERS, json=BILLING, headers=admin).status_code == 201
    seeded.call(seeded.services.roles.create, RoleCreate(name="biller", scopes=["billing:read"]), SYSTEM)
    dropped = seeded.http.patch(one("billing"), json={"scopes": ["billing:write"]}, headers=admin)
    assert_problem(dropped, 409, "scope-in-use")
    assert "billing:read" in dropped.json()["detail"]
    assert_problem(seeded.http.delete(one("billing"), headers=admin), 409, "scope-in-use")
    assert_problem(
        seeded.http.delete(one("customers"), headers=admin), 409, "scope-in-use"
    )  # roles hold them
    assert seeded.http.delete("/api/1/admin/roles/biller", headers=admin).status_code == 204
    assert seeded.http.delete(one("billing"), headers=admin).status_code == 204


def test_invalid_bodies(seeded: AuthClient, admin: dict[str, str]) -> None:
    for body in (
        {"identifier": "has space", "name": "x"},
        {"identifier": "x" * 201, "name": "x"},
        {"identifier": "ok", "name": ""},
        {"identifier": "ok", "name": "x", "access_token_ttl": 5},
        {"identifier": "ok", "name": "x", "scopes": ['quo"te']},
        {"identifier": "ok", "name": "x", "managed": True},
    ):
        assert seeded.http.post(SERVERS, json=body, headers=admin).status_code == 400, body
    assert_problem(seeded.http.get(one("ok"), headers=admin), 404, "not-found")


def test_needs_admin_resources_and_the_auth_audience(seeded: AuthClient, admin: dict[str, str]) -> None:
    other_area = seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD, scope="admin:users")["access_token"]
    refused = seeded.http.get(SERVERS, headers=seeded.bearer(other_area))
    assert refused.status_code == 403
    assert 'scope="admin:resources"' in refused.headers["www-authenticate"]
    customers = seeded.login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]  # aud customers
    assert seeded.http.get(SERVERS, headers=seeded.bearer(customers)).status_code == 401
    agent = seeded.admin_login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"]
    assert seeded.http.post(SERVERS, json=BILLING, headers=seeded.bearer(agent)).status_code == 403


# ---------------------------------------------------------------- the registry
def test_a_change_applies_at_once_on_this_replica(make_settings: SettingsFactory) -> None:
    """No refresh interval to wait for on the replica that made the change (the interval is long)."""
    with serving(make_settings(resource_refresh_interval=3600)) as auth:
        auth.create_user(ADMIN_EMAIL, ADMIN_PASSWORD, ["admin"])
        admin = auth.bearer(auth.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])
        created = auth.http.post(SERVERS, json={**BILLING, "access_token_ttl": 120}, headers=admin)
        assert created.status_code == 201, created.text
        issued = client_credentials(auth, "billing", "billing:read")
        assert issued.status_code == 200, issued.text
        assert issued.json()["expires_in"] == 120
        assert claims_of(issued.json()["access_token"])["aud"] == "billing"
        scopes = auth.http.get("/.well-known/openid-configuration").json()["scopes_supported"]
        assert {"billing:read", "billing:write"} <= set(scopes)
        assert (
            auth.http.patch(one("billing"), json={"access_token_ttl": 90}, headers=admin).status_code == 200
        )
        assert client_credentials(auth, "billing", "billing:read").json()["expires_in"] == 90


def test_the_token_endpoint_reads_memory_not_the_database(
    make_settings: SettingsFactory, auth_db: str
) -> None:
    """A server written straight to the database is unknown until the registry reloads."""
    with serving(make_settings(resource_refresh_interval=3600)) as auth:
        auth.call(
            _rows,
            auth_db,
            "WITH s AS (INSERT INTO resource_servers (identifier, name) VALUES ('ledger', 'L') RETURNING 1) "
            "INSERT INTO resource_scopes (scope, resource) SELECT 'ledger:read', 'ledger' FROM s",
        )
        client = auth.create_client(scope="ledger:read", resources=["ledger"])
        form = {"grant_type": "client_credentials"}
        credentials = basic(client.client_id, client.client_secret or "")
        assert_oauth_error(auth.token(form, headers=credentials), 400, "invalid_target")
        assert (
            "ledger:read" not in auth.http.get("/.well-known/openid-configuration").json()["scopes_supported"]
        )
        auth.call(auth.services.resource_registry.refresh)
        issued = auth.token(form, headers=credentials)
        assert issued.status_code == 200, issued.text
        assert claims_of(issued.json()["access_token"])["aud"] == "ledger"
        assert "ledger:read" in auth.http.get("/.well-known/openid-configuration").json()["scopes_supported"]


def test_other_replicas_see_a_change_within_the_interval(make_settings: SettingsFactory) -> None:
    settings = make_settings(resource_refresh_interval=0.2)
    with serving(settings) as first, serving(settings) as second:
        first.create_user(ADMIN_EMAIL, ADMIN_PASSWORD, ["admin"])
        admin = first.bearer(first.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])
        assert first.http.post(SERVERS, json=BILLING, headers=admin).status_code == 201

        def second_lists_billing() -> bool:
            metadata = second.http.get("/.well-known/oauth-authorization-server").json()
            return "billing:read" in metadata["scopes_supported"]

        wait_for(second_lists_billing)
        assert client_credentials(second, "billing", "billing:read").status_code == 200


# ---------------------------------------------------------------- CLI
async def test_cli_registers_and_lists_as_the_operator(
    auth_db: str, redis_url: str, redis_namespace: str
) -> None:
    env = cli_env(auth_db, redis_url, redis_namespace)
    args = ["resource-servers", "create", "--identifier", "billing", "--name", "Billing API"]
    created = run(
        env, *args, "--scope", "billing:read", "--scope", "billing:write", "--access-token-ttl", "300"
    )
    assert created.returncode == 0, created.stderr
    assert "registered resource server billing (scopes: billing:read billing:write)" in created.stdout
    again = run(env, *args)
    assert again.returncode == 1
    assert (
        again.stderr.strip()
        == "auth-service: resource server not registered: A resource server billing already exists."
    )
    taken = run(
        env,
        "resource-servers",
        "create",
        "--identifier",
        "ledger",
        "--name",
        "L",
        "--scope",
        "customers:read",
    )
    assert taken.returncode == 1
    assert "customers:read" in taken.stderr
    bad = run(env, "resource-servers", "create", "--identifier", "has space", "--name", "x")
    assert bad.returncode == 2
    listed = run(env, "resource-servers", "list")
    assert listed.returncode == 0, listed.stderr
    servers = {s["identifier"]: s for s in json.loads(listed.stdout)}
    assert set(servers) == {"auth", "billing", "customers"}
    assert servers["billing"]["scopes"] == ["billing:read", "billing:write"]
    assert servers["billing"]["access_token_ttl"] == 300
    audited = await _rows(auth_db, "SELECT actor, action FROM audit_events WHERE target_id = 'billing'")
    assert [(r["actor"], r["action"]) for r in audited] == [("operator", "resource_server.create")]


def test_full_admins_hold_a_new_resources_scopes_and_can_hand_them_out(
    seeded: AuthClient, admin: dict[str, str]
) -> None:
    """Nobody may grant what they do not hold: without this, a freshly registered resource's
    scopes could be given to no role and no client by anyone but the operator."""
    assert seeded.http.post(SERVERS, json=BILLING, headers=admin).status_code == 201
    admin_role = seeded.http.get("/api/1/admin/roles/admin", headers=admin).json()
    assert {"billing:read", "billing:write"} <= set(admin_role["scopes"])
    agent_role = seeded.http.get("/api/1/admin/roles/agent", headers=admin).json()
    assert not {"billing:read", "billing:write"} & set(agent_role["scopes"])
    role = {"name": "billing-reader", "scopes": ["billing:read"]}
    assert seeded.http.post("/api/1/admin/roles/", json=role, headers=admin).status_code == 201
    client = {"client_name": "billing job", "scope": "billing:read", "resources": ["billing"]}
    assert seeded.http.post("/api/1/admin/clients/", json=client, headers=admin).status_code == 201
    narrowed = {"scopes": ["billing:read"]}
    assert seeded.http.patch(one("billing"), json=narrowed, headers=admin).status_code == 200
    admin_role = seeded.http.get("/api/1/admin/roles/admin", headers=admin).json()
    assert "billing:write" not in admin_role["scopes"]
    assert "billing:read" in admin_role["scopes"]
