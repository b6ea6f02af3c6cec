"""Audience resolution at the token endpoint (RFC 8707): ``resource``, else the scopes' owners, else
the client's default; ``aud``, scopes and lifetime per audience; and the auth service's own API
accepting only tokens for ``auth``."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from auth_service.resources.schemas import ResourceServerCreate
from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    SYSTEM,
    AuthClient,
    SettingsFactory,
    basic,
    serving,
)
from tests.auth_service.test_token_grants import assert_oauth_error, claims_of, password_form

ADMIN_SCOPES = "admin:audit admin:clients admin:keys admin:resources admin:roles admin:users"
CUSTOMER_SCOPES = "customers:delete customers:read customers:write"


@pytest.fixture
def billing(seeded: AuthClient) -> AuthClient:
    """A third resource server, with a shorter token lifetime."""
    data = ResourceServerCreate("billing", "Billing API", ["billing:read", "billing:write"], 120)
    seeded.call(seeded.services.resource_servers.create, data, SYSTEM)
    return seeded


def admin_form(**extra: str | list[str]) -> dict[str, Any]:
    return {**password_form(ADMIN_EMAIL, ADMIN_PASSWORD), **extra}


def issued(auth: AuthClient, form: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = auth.token(form, **kwargs)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refresh(auth: AuthClient, token: str, **extra: str | list[str]) -> Any:
    return auth.token(
        {"grant_type": "refresh_token", "client_id": "first-party", "refresh_token": token, **extra}
    )


def service_client(auth: AuthClient, **fields: Any) -> dict[str, str]:
    client = auth.create_client(**fields)
    return basic(client.client_id, client.client_secret or "")


# ---------------------------------------------------------------- rule 1: resource
def test_resource_names_the_audience_exactly(seeded: AuthClient) -> None:
    body = issued(seeded, admin_form(resource="auth"))
    claims = claims_of(body["access_token"])
    assert claims["aud"] == "auth"  # one audience: a string
    assert body["scope"] == claims["scope"] == ADMIN_SCOPES  # the grant's scopes this resource owns
    both = claims_of(issued(seeded, admin_form(resource=["customers", "auth"]))["access_token"])
    assert both["aud"] == ["auth", "customers"]  # several: the sorted array
    assert both["scope"] == f"{ADMIN_SCOPES} {CUSTOMER_SCOPES}"


def test_a_resource_unknown_or_not_allowed_is_invalid_target(billing: AuthClient) -> None:
    for resource in ("nowhere", "billing", ["customers", "nowhere"], "auth customers"):
        assert_oauth_error(billing.token(admin_form(resource=resource)), 400, "invalid_target")
    assert_oauth_error(
        billing.token(admin_form(resource="auth", scope="customers:read")), 400, "invalid_scope"
    )


def test_a_user_without_scopes_there_gets_an_empty_token(seeded: AuthClient) -> None:
    """The auth API's self-service needs only the audience."""
    body = issued(seeded, password_form(resource="auth"))
    assert "scope" not in body
    claims = claims_of(body["access_token"])
    assert claims["aud"] == "auth"
    assert claims["scope"] == ""
    assert seeded.http.get("/api/1/users/me", headers=seeded.bearer(body["access_token"])).status_code == 200


# ---------------------------------------------------------------- rule 2: scope
def test_the_scopes_owners_are_the_audience(billing: AuthClient) -> None:
    assert (
        claims_of(issued(billing, admin_form(scope="customers:read"))["access_token"])["aud"] == "customers"
    )
    assert claims_of(issued(billing, admin_form(scope="admin:keys"))["access_token"])["aud"] == "auth"
    mixed = claims_of(issued(billing, admin_form(scope="admin:keys customers:read"))["access_token"])
    assert mixed["aud"] == ["auth", "customers"]
    assert mixed["scope"] == "admin:keys customers:read"
    assert_oauth_error(
        billing.token(admin_form(scope="users:manage")), 400, "invalid_scope"
    )  # nobody owns it
    assert_oauth_error(billing.token(admin_form(scope="billing:read")), 400, "invalid_target")  # not allowed


# ---------------------------------------------------------------- rule 3: the client's default
def test_without_resource_or_scope_the_client_default(billing: AuthClient) -> None:
    body = issued(billing, password_form())
    assert claims_of(body["access_token"])["aud"] == "customers"  # first-party's default
    sole = service_client(billing, scope="billing:read")  # resources: the owners of its scopes
    token = issued(billing, {"grant_type": "client_credentials"}, headers=sole)
    assert claims_of(token["access_token"])["aud"] == "billing"
    two = service_client(billing, scope="billing:read customers:read")
    assert_oauth_error(
        billing.token({"grant_type": "client_credentials"}, headers=two), 400, "invalid_target"
    )
    assert (
        claims_of(
            issued(billing, {"grant_type": "client_credentials", "resource": "customers"}, headers=two)[
                "access_token"
            ]
        )["scope"]
        == "customers:read"
    )
    chosen = service_client(billing, scope="billing:read customers:read", default_resource="customers")
    assert (
        claims_of(issued(billing, {"grant_type": "client_credentials"}, headers=chosen)["access_token"])[
            "aud"
        ]
        == "customers"
    )


def test_a_password_client_without_default_must_name_a_resource(seeded: AuthClient) -> None:
    app = seeded.create_client(
        grant_types=["password"],
        scope="customers:read",
        resources=["auth", "customers"],
        token_endpoint_auth_method="none",
    )
    form = {**password_form(), "client_id": app.client_id}
    assert_oauth_error(seeded.token(form), 400, "invalid_target")
    body = issued(seeded, {**form, "resource": "customers"})
    assert body["scope"] == "customers:read"
    assert "refresh_token" not in body  # the client may not use the refresh_token grant


def test_a_client_allowed_one_resource_defaults_to_it(seeded: AuthClient) -> None:
    app = seeded.create_client(
        grant_types=["password"], scope="customers:read", token_endpoint_auth_method="none"
    )
    body = issued(seeded, {**password_form(), "client_id": app.client_id})
    assert claims_of(body["access_token"])["aud"] == "customers"


# ---------------------------------------------------------------- lifetime, claims, families
def test_the_lifetime_is_the_shortest_of_the_audience(billing: AuthClient) -> None:
    client = service_client(billing, scope="billing:read customers:read")
    for resource, ttl in (("billing", 120), ("customers", 600), (["billing", "customers"], 120)):
        body = issued(billing, {"grant_type": "client_credentials", "resource": resource}, headers=client)
        claims = claims_of(body["access_token"])
        assert body["expires_in"] == claims["exp"] - claims["iat"] == ttl, resource


def test_empty_roles_are_omitted(seeded: AuthClient) -> None:
    seeded.create_user("nobody@example.com", "a role-less account phrase", [])
    claims = claims_of(seeded.login("nobody@example.com", "a role-less account phrase")["access_token"])
    assert "roles" not in claims
    assert claims_of(seeded.login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"])["roles"] == ["agent"]


def test_the_family_keeps_the_grant_and_the_first_audience(seeded: AuthClient, auth_db: str) -> None:
    session = seeded.login(ADMIN_EMAIL, ADMIN_PASSWORD, resource="auth")

    async def family() -> asyncpg.Record | None:
        conn = await asyncpg.connect(auth_db)
        try:
            return await conn.fetchrow(
                "SELECT scope, resources FROM refresh_families WHERE id = $1::uuid", sid
            )
        finally:
            await conn.close()

    sid = claims_of(session["access_token"])["sid"]
    row = seeded.call(family)
    assert row["resources"] == ["auth"]
    assert row["scope"] == f"{ADMIN_SCOPES} {CUSTOMER_SCOPES}"  # the grant, not the first token's scopes


# ---------------------------------------------------------------- refresh
def test_refresh_keeps_the_audience_or_moves_to_another_allowed_one(seeded: AuthClient) -> None:
    first = seeded.login(ADMIN_EMAIL, ADMIN_PASSWORD)  # customers, the default
    assert claims_of(first["access_token"])["scope"] == CUSTOMER_SCOPES
    same = refresh(seeded, first["refresh_token"])
    assert same.status_code == 200, same.text
    assert claims_of(same.json()["access_token"])["aud"] == "customers"
    moved = refresh(seeded, same.json()["refresh_token"], resource="auth")  # RFC 8707 section 2.2
    assert moved.status_code == 200, moved.text
    claims = claims_of(moved.json()["access_token"])
    assert claims["aud"] == "auth"
    assert claims["scope"] == moved.json()["scope"] == ADMIN_SCOPES
    assert (
        seeded.http.get(
            "/api/1/admin/roles/", headers=seeded.bearer(moved.json()["access_token"])
        ).status_code
        == 200
    )
    narrowed = refresh(seeded, moved.json()["refresh_token"], resource="auth", scope="admin:keys")
    assert claims_of(narrowed.json()["access_token"])["scope"] == "admin:keys"
    back = refresh(seeded, narrowed.json()["refresh_token"])  # no resource: the family's again
    assert claims_of(back.json()["access_token"])["aud"] == "customers"


def test_refused_refresh_targets_do_not_consume_the_token(billing: AuthClient) -> None:
    session = billing.login(AGENT_EMAIL, AGENT_PASSWORD)
    token = session["refresh_token"]
    assert_oauth_error(refresh(billing, token, resource="billing"), 400, "invalid_target")  # not allowed
    assert_oauth_error(refresh(billing, token, resource="nowhere"), 400, "invalid_target")
    assert_oauth_error(refresh(billing, token, resource="auth", scope="customers:read"), 400, "invalid_scope")
    assert_oauth_error(refresh(billing, token, scope="admin:keys"), 400, "invalid_scope")  # not the family's
    assert refresh(billing, token).status_code == 200  # still the live token: nothing was rotated


def test_refresh_when_the_client_lost_the_family_s_resource(
    make_settings: SettingsFactory, auth_db: str
) -> None:
    with serving(make_settings(client_cache_ttl=0)) as auth:  # the client's record read afresh
        auth.create_user(AGENT_EMAIL, AGENT_PASSWORD, ["agent"])
        session = auth.login(AGENT_EMAIL, AGENT_PASSWORD)

        async def drop_customers() -> None:
            conn = await asyncpg.connect(auth_db)
            try:
                await conn.execute(
                    "DELETE FROM client_resources WHERE client_id = 'first-party' AND resource = 'customers'"
                )
            finally:
                await conn.close()

        auth.call(drop_customers)
        assert_oauth_error(refresh(auth, session["refresh_token"]), 400, "invalid_target")
        moved = refresh(auth, session["refresh_token"], resource="auth")  # not consumed by the refusal
        assert moved.status_code == 200, moved.text
        assert claims_of(moved.json()["access_token"])["aud"] == "auth"


# ---------------------------------------------------------------- the auth service's own API
def test_the_auth_api_accepts_only_its_own_audience(seeded: AuthClient) -> None:
    only_customers = seeded.login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]
    for path in ("/api/1/admin/users/", "/api/1/users/me"):
        refused = seeded.http.get(path, headers=seeded.bearer(only_customers))
        assert refused.status_code == 401, path
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    own = seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]
    for path in ("/api/1/admin/users/", "/api/1/users/me"):
        assert seeded.http.get(path, headers=seeded.bearer(own)).status_code == 200, path
