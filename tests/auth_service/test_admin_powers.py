"""Admin powers split per area and bounded: nobody grants a scope it does not hold itself.

Each admin area of ``/api/1/admin`` needs its own scope. Assigning a role, creating or widening a
role, creating a user with roles and replacing a user's roles all hand out scopes, which the actor
must hold (403 ``beyond-own-powers``). The issue's case: a user whose role holds only
``admin:users`` assigns itself ``admin``; today's main answered 204 and its next token said admin.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from auth_service.audit.service import Actor
from auth_service.errors import BeyondOwnPowers, InvalidField
from auth_service.powers.service import (
    ADMIN_AUDIT,
    ADMIN_CLIENTS,
    ADMIN_KEYS,
    ADMIN_ROLES,
    ADMIN_SCOPES,
    ADMIN_USERS,
    OPERATOR_ID,
)
from auth_service.roles.schemas import RoleCreate
from auth_service.users.schemas import User, UserCreate, UserUpdate
from tests.auth_service.conftest import AuthClient
from tests.auth_service.test_token_grants import claims_of

OPERATOR = Actor(id=OPERATOR_ID)
PASSWORD = "a long and unusual passphrase"
# One request per area that succeeds (2xx, or 404 for a session that does not exist) with its scope.
AREAS = {
    ADMIN_USERS: [("GET", "/api/1/admin/users/"), ("DELETE", f"/api/1/admin/sessions/{UUID(int=1)}")],
    ADMIN_ROLES: [("GET", "/api/1/admin/roles/")],
    ADMIN_CLIENTS: [("GET", "/api/1/admin/clients/")],
    ADMIN_KEYS: [("GET", "/api/1/admin/keys/")],
    ADMIN_AUDIT: [("GET", "/api/1/admin/audit-events/")],
}


def holder(auth: AuthClient, email: str, *scopes: str) -> User:
    """A user whose one role (named after its email) holds exactly ``scopes``."""
    role = email.split("@")[0]
    auth.call(auth.services.roles.create, RoleCreate(role, list(scopes)), OPERATOR)
    user: User = auth.call(auth.services.users.create, UserCreate(email, PASSWORD, [role]), OPERATOR)
    return user


def bearer(auth: AuthClient, email: str) -> dict[str, str]:
    return auth.bearer(auth.admin_login(email, PASSWORD)["access_token"])


def beyond_own_powers(response: Any, field: str) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/beyond-own-powers")
    assert body["errors"][0]["field"] == field


@pytest.mark.parametrize("scope", sorted(AREAS))
def test_each_admin_area_needs_its_own_scope(auth: AuthClient, scope: str) -> None:
    holder(auth, "area@example.com", scope)
    headers = bearer(auth, "area@example.com")
    for area, requests in AREAS.items():
        for method, path in requests:
            response = auth.http.request(method, path, headers=headers)
            if area == scope:
                assert response.status_code in (200, 404), (path, response.text)
                if response.status_code == 404:
                    assert response.json()["type"].endswith("/not-found")
            else:
                assert response.status_code == 403, (path, response.text)
                challenge = response.headers["www-authenticate"]
                assert 'error="insufficient_scope"' in challenge
                assert f'scope="{area}"' in challenge


def test_a_user_admin_cannot_make_itself_admin(auth: AuthClient) -> None:
    me = holder(auth, "helpdesk@example.com", ADMIN_USERS)
    headers = bearer(auth, me.email)
    beyond_own_powers(auth.http.put(f"/api/1/admin/users/{me.id}/roles/admin", headers=headers), "role")
    beyond_own_powers(auth.http.put(f"/api/1/admin/users/{me.id}/roles/agent", headers=headers), "role")
    beyond_own_powers(
        auth.http.patch(
            f"/api/1/admin/users/{me.id}", json={"roles": ["helpdesk", "admin"]}, headers=headers
        ),
        "roles",
    )
    beyond_own_powers(
        auth.http.post(
            "/api/1/admin/users/",
            json={"email": "sock.puppet@example.com", "password": PASSWORD, "roles": ["admin"]},
            headers=headers,
        ),
        "roles",
    )
    assert auth.http.get(f"/api/1/admin/users/{me.id}", headers=headers).json()["roles"] == ["helpdesk"]
    emails = [u["email"] for u in auth.http.get("/api/1/admin/users/", headers=headers).json()["items"]]
    assert emails == [me.email]
    for token in (auth.admin_login(me.email, PASSWORD), auth.login(me.email, PASSWORD)):
        assert "admin" not in claims_of(token["access_token"]).get("roles", [])
    # What it holds, it may hand out: a colleague with the same role.
    colleague = auth.http.post(
        "/api/1/admin/users/",
        json={"email": "colleague@example.com", "password": PASSWORD, "roles": ["helpdesk"]},
        headers=headers,
    )
    assert colleague.status_code == 201, colleague.text
    assert colleague.json()["roles"] == ["helpdesk"]
    # Nor can it take over a stronger account by setting its password.
    admin = auth.call(
        auth.services.users.create, UserCreate("root@example.com", PASSWORD, ["admin"]), OPERATOR
    )
    new_password = {"password": "a takeover passphrase, long enough"}
    beyond_own_powers(
        auth.http.post(f"/api/1/admin/users/{admin.id}/password", json=new_password, headers=headers),
        "password",
    )
    auth.admin_login(admin.email, PASSWORD)  # unchanged
    reset = auth.http.post(
        f"/api/1/admin/users/{colleague.json()['id']}/password", json=new_password, headers=headers
    )
    assert reset.status_code == 204, reset.text


def test_role_scopes_are_bounded_by_the_actors_own(auth: AuthClient) -> None:
    holder(auth, "roles@example.com", ADMIN_ROLES, "customers:read")
    headers = bearer(auth, "roles@example.com")
    created = auth.http.post(
        "/api/1/admin/roles/", json={"name": "readers", "scopes": ["customers:read"]}, headers=headers
    )
    assert created.status_code == 201, created.text
    beyond_own_powers(
        auth.http.post(
            "/api/1/admin/roles/", json={"name": "writers", "scopes": ["customers:write"]}, headers=headers
        ),
        "scopes",
    )
    beyond_own_powers(
        auth.http.patch("/api/1/admin/roles/roles", json={"scopes": sorted(ADMIN_SCOPES)}, headers=headers),
        "scopes",
    )
    beyond_own_powers(
        auth.http.patch(
            "/api/1/admin/roles/viewer",
            json={"scopes": ["customers:read", "customers:delete"]},
            headers=headers,
        ),
        "scopes",
    )
    assert auth.http.get("/api/1/admin/roles/viewer", headers=headers).json()["scopes"] == ["customers:read"]
    # Narrowing a role grants nothing, even of scopes the actor does not hold.
    narrowed = auth.http.patch(
        "/api/1/admin/roles/agent", json={"scopes": ["customers:read"]}, headers=headers
    )
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["scopes"] == ["customers:read"]
    names = [r["name"] for r in auth.http.get("/api/1/admin/roles/", headers=headers).json()]
    assert "writers" not in names


def test_grants_are_bounded_in_the_services_too(auth: AuthClient) -> None:
    helpdesk = holder(auth, "helpdesk@example.com", ADMIN_USERS, "customers:read")
    actor = Actor(id=str(helpdesk.id))
    services = auth.services
    with pytest.raises(BeyondOwnPowers):
        auth.call(services.roles.assign, helpdesk.id, "admin", actor)
    with pytest.raises(BeyondOwnPowers):
        auth.call(services.users.update, helpdesk.id, UserUpdate(roles=["helpdesk", "agent"]), actor)
    auth.call(services.roles.assign, helpdesk.id, "viewer", actor)  # customers:read is its own
    with pytest.raises(BeyondOwnPowers):
        auth.call(services.roles.create, RoleCreate("wider", ["customers:write"]), Actor(id=str(helpdesk.id)))
    # A client's powers are its registered scopes; an unknown actor holds nothing.
    with pytest.raises(BeyondOwnPowers):
        auth.call(services.roles.assign, helpdesk.id, "viewer", Actor(id="no-such-client"))
    disabled = auth.call(services.users.update, helpdesk.id, UserUpdate(status="disabled"), OPERATOR)
    assert disabled.status == "disabled"
    with pytest.raises(BeyondOwnPowers):  # a disabled account holds nothing any more
        auth.call(services.users.create, UserCreate("x@example.com", PASSWORD, ["viewer"]), actor)
    assert auth.call(services.users.get, helpdesk.id).roles == ["helpdesk", "viewer"]


async def _register_scope(database_url: str, resource: str, scope: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("INSERT INTO resource_servers (identifier, name) VALUES ($1, $1)", resource)
        await conn.execute("INSERT INTO resource_scopes (scope, resource) VALUES ($1, $2)", scope, resource)
    finally:
        await conn.close()


def test_role_scopes_are_those_a_resource_server_owns(auth: AuthClient, auth_db: str) -> None:
    roles = auth.services.roles
    with pytest.raises(InvalidField) as refused:
        auth.call(roles.create, RoleCreate("legacy", ["users:manage"]), OPERATOR)
    assert refused.value.errors is not None
    assert refused.value.errors[0]["field"] == "scopes"
    with pytest.raises(InvalidField):
        auth.call(roles.create, RoleCreate("billing", ["billing:read"]), OPERATOR)
    asyncio.run(_register_scope(auth_db, "billing", "billing:read"))
    created = auth.call(roles.create, RoleCreate("billing", ["billing:read", "billing:read"]), OPERATOR)
    assert created.scopes == ["billing:read"]
