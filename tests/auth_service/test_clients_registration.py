"""Client registration (RFC 7591 names): the authentication method a client registered is the only
one it may use; a client_id is never UUID-shaped (a user's ``sub`` is a UUID, RFC 9068 section 5);
resources are registered resource servers; and nobody registers or widens a client beyond what it
holds itself (the issue's case: a client holding only ``admin:clients`` registered a client with
any scope).
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import pytest

from tests.auth_service.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, AuthClient, basic
from tests.auth_service.test_token_grants import assert_oauth_error

CLIENTS = "/api/1/admin/clients/"
PROBLEM = "application/problem+json"
CC = {"grant_type": "client_credentials"}
UUID_SHAPED = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE)


@pytest.fixture
def admin(seeded: AuthClient) -> dict[str, str]:
    return seeded.bearer(seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])


def problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    if field is not None:
        assert [error["field"] for error in body["errors"]] == [field], body
    return body


def register(auth: AuthClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = auth.http.post(CLIENTS, json={"client_name": "svc", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# ---------------------------------------------------------------- token_endpoint_auth_method
def test_the_registered_auth_method_is_stored_shown_and_the_only_one_accepted(
    seeded: AuthClient, admin: dict[str, str]
) -> None:
    by_post = register(seeded, admin, scope="customers:read", token_endpoint_auth_method="client_secret_post")
    by_basic = register(seeded, admin, scope="customers:read")
    assert by_post["token_endpoint_auth_method"] == "client_secret_post"
    assert by_basic["token_endpoint_auth_method"] == "client_secret_basic"
    shown = seeded.http.get(CLIENTS + by_post["client_id"], headers=admin).json()
    assert shown["token_endpoint_auth_method"] == "client_secret_post"
    listed = {c["client_id"]: c for c in seeded.http.get(CLIENTS, headers=admin).json()}
    assert listed["first-party"]["token_endpoint_auth_method"] == "none"

    def post_form(client: dict[str, Any]) -> dict[str, str]:
        return {**CC, "client_id": client["client_id"], "client_secret": client["client_secret"]}

    def basic_header(client: dict[str, Any]) -> dict[str, str]:
        return basic(client["client_id"], client["client_secret"])

    assert seeded.token(post_form(by_post)).status_code == 200
    assert_oauth_error(seeded.token(CC, headers=basic_header(by_post)), 401, "invalid_client")
    assert seeded.token(CC, headers=basic_header(by_basic)).status_code == 200
    assert_oauth_error(seeded.token(post_form(by_basic)), 401, "invalid_client")
    # the same holds at introspection and revocation, which authenticate the same way
    introspected = seeded.http.post("/oauth/introspect", data={**post_form(by_basic), "token": "x"})
    assert_oauth_error(introspected, 401, "invalid_client")


def test_a_wrong_secret_with_the_wrong_method_says_nothing_of_the_method(
    seeded: AuthClient, admin: dict[str, str]
) -> None:
    by_post = register(seeded, admin, scope="customers:read", token_endpoint_auth_method="client_secret_post")
    wrong = seeded.token(CC, headers=basic(by_post["client_id"], "not-the-secret"))
    unknown = seeded.token(CC, headers=basic("no-such-client", "not-the-secret"))
    assert_oauth_error(wrong, 401, "invalid_client")
    assert wrong.json() == unknown.json()
    right = seeded.token(CC, headers=basic(by_post["client_id"], by_post["client_secret"]))
    assert "client_secret_post" in right.json()["error_description"]


def test_the_method_can_change_between_the_secret_methods_only(
    seeded: AuthClient, admin: dict[str, str]
) -> None:
    client = register(seeded, admin, scope="customers:read")
    path = CLIENTS + client["client_id"]
    changed = seeded.http.patch(
        path, json={"token_endpoint_auth_method": "client_secret_post"}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["token_endpoint_auth_method"] == "client_secret_post"
    form = {**CC, "client_id": client["client_id"], "client_secret": client["client_secret"]}
    assert seeded.token(form).status_code == 200  # the cache forgot the old method at once
    assert_oauth_error(
        seeded.token(CC, headers=basic(client["client_id"], client["client_secret"])), 401, "invalid_client"
    )
    public = seeded.http.patch(
        CLIENTS + "first-party", json={"token_endpoint_auth_method": "client_secret_basic"}, headers=admin
    )
    problem(public, 422, "token_endpoint_auth_method")


# ---------------------------------------------------------------- client identity
@pytest.mark.parametrize(
    "client_id",
    [
        "0b5d7f52-6f0e-4b0e-9a53-1d2c3e4f5a6b",
        "0B5D7F526F0E4B0E9A531D2C3E4F5A6B",
        "00000000-0000-0000-0000-000000000000",
    ],
)
def test_a_uuid_shaped_client_id_is_refused(
    seeded: AuthClient, admin: dict[str, str], client_id: str
) -> None:
    response = seeded.http.post(CLIENTS, json={"client_name": "svc", "client_id": client_id}, headers=admin)
    problem(response, 422, "client_id")
    assert seeded.http.get(CLIENTS + client_id, headers=admin).status_code == 404


def test_the_database_refuses_a_uuid_shaped_client_id_too(seeded: AuthClient, auth_db: str) -> None:
    async def insert() -> None:
        conn = await asyncpg.connect(auth_db)
        try:
            await conn.execute(
                "INSERT INTO oauth_clients (client_id, client_name, grant_types, scopes, "
                "token_endpoint_auth_method) VALUES ($1, 'x', '{password}', '{}', 'none')",
                "0b5d7f52-6f0e-4b0e-9a53-1d2c3e4f5a6b",
            )
        finally:
            await conn.close()

    with pytest.raises(asyncpg.CheckViolationError, match="oauth_clients_id_not_a_user_subject"):
        seeded.call(insert)


def test_generated_client_ids_are_not_uuid_shaped(seeded: AuthClient, admin: dict[str, str]) -> None:
    for _ in range(20):
        client_id = register(seeded, admin)["client_id"]
        assert UUID_SHAPED.fullmatch(client_id) is None, client_id


# ---------------------------------------------------------------- resources
def test_resources_default_to_the_owners_of_the_scopes(seeded: AuthClient, admin: dict[str, str]) -> None:
    both = register(seeded, admin, scope="customers:read admin:audit")
    assert both["resources"] == ["auth", "customers"]
    assert both["default_resource"] is None
    assert both["resource_server"] is None
    assert register(seeded, admin)["resources"] == []
    named = register(
        seeded, admin, scope="customers:read", resources=["customers", "auth"], default_resource="auth"
    )
    assert named["resources"] == ["auth", "customers"]
    assert named["default_resource"] == "auth"
    shown = seeded.http.get(CLIENTS + named["client_id"], headers=admin).json()
    assert (shown["resources"], shown["default_resource"]) == (["auth", "customers"], "auth")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"resources": ["customers", "billing"]}, "resources"),
        ({"resources": ["customers"], "default_resource": "auth"}, "default_resource"),
        ({"resources": ["customers"], "default_resource": "billing"}, "default_resource"),
        ({"resource_server": "billing"}, "resource_server"),
        ({"scope": "customers:read users:manage"}, "scope"),
    ],
)
def test_unknown_resources_and_a_default_outside_them_are_422(
    seeded: AuthClient, admin: dict[str, str], fields: dict[str, Any], field: str
) -> None:
    before = seeded.http.get(CLIENTS, headers=admin).json()
    problem(seeded.http.post(CLIENTS, json={"client_name": "svc", **fields}, headers=admin), 422, field)
    assert seeded.http.get(CLIENTS, headers=admin).json() == before


def test_update_changes_what_it_names_and_null_clears(seeded: AuthClient, admin: dict[str, str]) -> None:
    client = register(
        seeded, admin, scope="customers:read", default_resource="customers", resource_server="customers"
    )
    path = CLIENTS + client["client_id"]
    renamed = seeded.http.patch(path, json={"client_name": "renamed"}, headers=admin).json()
    assert (renamed["default_resource"], renamed["resource_server"]) == ("customers", "customers")
    problem(seeded.http.patch(path, json={"resources": ["auth"]}, headers=admin), 422, "default_resource")
    cleared = seeded.http.patch(
        path, json={"resources": ["auth"], "default_resource": None, "resource_server": None}, headers=admin
    )
    assert cleared.status_code == 200, cleared.text
    body = cleared.json()
    assert (body["resources"], body["default_resource"], body["resource_server"]) == (["auth"], None, None)
    assert body["scope"] == "customers:read"


# ---------------------------------------------------------------- bounded powers
@pytest.fixture
def client_admin(seeded: AuthClient, admin: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """A service client holding admin:clients and customers:read, and its admin API token."""
    client = register(seeded, admin, scope="admin:clients customers:read")
    assert client["resources"] == ["auth", "customers"]
    token = seeded.token(
        {**CC, "scope": "admin:clients"}, headers=basic(client["client_id"], client["client_secret"])
    )
    assert token.status_code == 200, token.text
    return client, seeded.bearer(token.json()["access_token"])


def test_a_client_admin_cannot_register_a_client_beyond_its_own_scopes(
    seeded: AuthClient, client_admin: tuple[dict[str, Any], dict[str, str]]
) -> None:
    _, headers = client_admin
    before = len(seeded.http.get(CLIENTS, headers=headers).json())
    for scope in ("customers:write", "customers:read admin:users"):
        refused = seeded.http.post(CLIENTS, json={"client_name": "escalate", "scope": scope}, headers=headers)
        body = problem(refused, 403, "scope")
        assert body["type"].endswith("/beyond-own-powers")
    assert len(seeded.http.get(CLIENTS, headers=headers).json()) == before
    within = seeded.http.post(
        CLIENTS, json={"client_name": "reader", "scope": "customers:read"}, headers=headers
    )
    assert within.status_code == 201, within.text


def test_a_client_admin_cannot_widen_a_client_nor_take_a_stronger_ones_secret(
    seeded: AuthClient, admin: dict[str, str], client_admin: tuple[dict[str, Any], dict[str, str]]
) -> None:
    _, headers = client_admin
    reader = register(seeded, headers, scope="customers:read")
    path = CLIENTS + reader["client_id"]
    problem(
        seeded.http.patch(path, json={"scope": "customers:read customers:write"}, headers=headers),
        403,
        "scope",
    )
    assert seeded.http.get(path, headers=headers).json()["scope"] == "customers:read"
    assert (
        seeded.http.patch(path, json={"scope": ""}, headers=headers).status_code == 200
    )  # narrowing is fine
    stronger = register(seeded, admin, scope="customers:read customers:write customers:delete")
    rotated = seeded.http.post(f"{CLIENTS}{stronger['client_id']}/secret", headers=headers)
    problem(rotated, 403, "client_id")
    assert (
        seeded.token(CC, headers=basic(stronger["client_id"], stronger["client_secret"])).status_code == 200
    )
