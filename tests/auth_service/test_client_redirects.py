"""Client registration for the browser flows (RFC 7591 members, RFC 8252, RFC 9700 section 4.1):
which redirect, post-logout and back-channel logout URIs a client may register, the new grants,
``response_types`` and the first-party flag, through the admin API as an admin sees them."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from auth_service.errors import InvalidField
from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AuthClient,
    SettingsFactory,
    basic,
    serving,
)
from tests.auth_service.test_clients_registration import CLIENTS, problem, register
from tests.auth_service.test_refresh_and_revocation import INACTIVE, introspect

CODE = "authorization_code"
DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
PUBLIC = {"token_endpoint_auth_method": "none"}
APP = "https://app.example.com/callback"


@pytest.fixture
def admin(seeded: AuthClient) -> dict[str, str]:
    return seeded.bearer(seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])


def web_app(**fields: Any) -> dict[str, Any]:
    return {"grant_types": [CODE, "refresh_token"], "redirect_uris": [APP], **fields}


def test_a_code_client_is_stored_and_shown_with_its_front_channel_members(
    seeded: AuthClient, admin: dict[str, str], auth_db: str
) -> None:
    created = register(
        seeded,
        admin,
        **web_app(
            redirect_uris=[APP, "http://127.0.0.1:8123/cb", "http://[::1]/cb", APP],
            post_logout_redirect_uris=["https://app.example.com/bye"],
            backchannel_logout_uri="https://app.example.com/backchannel",
            first_party=True,
        ),
    )
    assert created["redirect_uris"] == [APP, "http://127.0.0.1:8123/cb", "http://[::1]/cb"]  # once each
    assert created["response_types"] == ["code"]  # the default with authorization_code
    assert created["post_logout_redirect_uris"] == ["https://app.example.com/bye"]
    assert created["backchannel_logout_uri"] == "https://app.example.com/backchannel"
    assert created["first_party"] is True
    shown = seeded.http.get(CLIENTS + created["client_id"], headers=admin).json()
    assert {k: v for k, v in shown.items() if k in created} == {
        k: v for k, v in created.items() if k not in ("client_secret", "client_secret_expires_at")
    }

    async def row() -> asyncpg.Record | None:
        conn = await asyncpg.connect(auth_db)
        try:
            return await conn.fetchrow(
                "SELECT redirect_uris, response_types, first_party FROM oauth_clients WHERE client_id = $1",
                created["client_id"],
            )
        finally:
            await conn.close()

    stored = seeded.call(row)
    assert stored is not None
    assert (stored["redirect_uris"][0], stored["response_types"], stored["first_party"]) == (
        APP,
        ["code"],
        True,
    )
    m2m = register(seeded, admin, scope="customers:read")
    assert (m2m["redirect_uris"], m2m["response_types"], m2m["first_party"]) == ([], [], False)
    assert m2m["backchannel_logout_uri"] is None


def test_the_seeded_cli_client_is_a_public_first_party_code_and_device_client(
    seeded: AuthClient, admin: dict[str, str]
) -> None:
    cli = seeded.http.get(CLIENTS + "auth-cli", headers=admin).json()
    assert cli["token_endpoint_auth_method"] == "none"
    assert set(cli["grant_types"]) == {CODE, "refresh_token", DEVICE}
    assert (cli["redirect_uris"], cli["first_party"]) == (["http://127.0.0.1/callback"], True)
    assert seeded.http.get(CLIENTS + "first-party", headers=admin).json()["first_party"] is True


def test_a_public_device_client_needs_no_redirect_uri(seeded: AuthClient, admin: dict[str, str]) -> None:
    device = register(seeded, admin, grant_types=[DEVICE], **PUBLIC)
    assert (device["grant_types"], device["response_types"], device["client_secret"]) == ([DEVICE], [], None)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"grant_types": [CODE]}, "redirect_uris"),
        ({"response_types": ["code"], "grant_types": ["client_credentials"]}, "response_types"),
        (web_app(redirect_uris=["/callback"]), "redirect_uris"),  # relative
        (web_app(redirect_uris=["app.example.com/cb"]), "redirect_uris"),  # no scheme
        (web_app(redirect_uris=[APP + "#frag"]), "redirect_uris"),
        (web_app(redirect_uris=[APP + "#"]), "redirect_uris"),  # an empty fragment too
        (web_app(redirect_uris=["https://good.example@evil.example/cb"]), "redirect_uris"),
        (web_app(redirect_uris=["https://*.example.com/cb"]), "redirect_uris"),
        (web_app(redirect_uris=["https://app.example.com/" + "a" * 2000]), "redirect_uris"),
        (web_app(redirect_uris=[f"https://app.example.com/{n}" for n in range(21)]), "redirect_uris"),
        (web_app(redirect_uris=["https://app.example.com/a b"]), "redirect_uris"),
        (web_app(redirect_uris=["https:///cb"]), "redirect_uris"),  # no host
        (web_app(redirect_uris=["http://app.example.com/cb"]), "redirect_uris"),  # production: http
        (web_app(redirect_uris=["http://10.0.0.5/cb"]), "redirect_uris"),  # not loopback
        (web_app(redirect_uris=["http://localhost:8080/cb"]), "redirect_uris"),  # a name, not loopback
        (web_app(redirect_uris=["http://127.0.0.1:99999/cb"]), "redirect_uris"),  # no such port
        (web_app(redirect_uris=["javascript:alert(1)"]), "redirect_uris"),  # not a reversed domain
        (web_app(redirect_uris=["com.example.app:/cb"]), "redirect_uris"),  # private-use: public only
        (web_app(post_logout_redirect_uris=["https://app.example.com/bye#x"]), "post_logout_redirect_uris"),
        (web_app(post_logout_redirect_uris=["http://app.example.com/bye"]), "post_logout_redirect_uris"),
        (web_app(backchannel_logout_uri="com.example.app:/logout"), "backchannel_logout_uri"),
        (web_app(backchannel_logout_uri="http://rp.example.com/logout"), "backchannel_logout_uri"),
        (web_app(backchannel_logout_uri="/logout"), "backchannel_logout_uri"),
        ({**web_app(), "grant_types": [CODE, "client_credentials"], **PUBLIC}, "grant_types"),
    ],
)
def test_an_unsafe_or_inconsistent_registration_is_a_422_naming_the_field(
    seeded: AuthClient, admin: dict[str, str], fields: dict[str, Any], field: str
) -> None:
    response = seeded.http.post(CLIENTS, json={"client_name": "app", **fields}, headers=admin)
    body = problem(response, 422, field)
    assert body["type"].endswith("invalid-field")


def test_native_apps_register_private_use_schemes_and_loopback_redirects(
    seeded: AuthClient, admin: dict[str, str]
) -> None:
    native = register(
        seeded, admin, **web_app(redirect_uris=["com.example.app:/cb", "http://127.0.0.1/cb"], **PUBLIC)
    )
    assert native["redirect_uris"] == ["com.example.app:/cb", "http://127.0.0.1/cb"]


def test_development_accepts_http_on_any_host_and_localhost(make_settings: SettingsFactory) -> None:
    uris = ["http://localhost:3000/cb", "http://192.168.1.20:8080/cb"]
    with serving(make_settings(environment="development")) as dev:
        client = dev.create_client(
            grant_types=[CODE], redirect_uris=uris, backchannel_logout_uri="http://rp.lan/logout"
        )
        assert (client.redirect_uris, client.backchannel_logout_uri) == (uris, "http://rp.lan/logout")
        with pytest.raises(InvalidField) as refused:  # the other rules hold in development too
            dev.create_client(grant_types=[CODE], redirect_uris=["http://localhost/cb#f"])
        assert [e["field"] for e in refused.value.errors or []] == ["redirect_uris"]


def test_patch_edits_the_front_channel_members_and_narrowing_them_revokes_nothing(
    seeded: AuthClient, admin: dict[str, str], introspector: dict[str, str]
) -> None:
    created = register(
        seeded,
        admin,
        **web_app(grant_types=[CODE, "client_credentials"], redirect_uris=[APP, "https://app.example.com/2"]),
        scope="customers:read",
    )
    url = CLIENTS + created["client_id"]
    token = seeded.token(
        {"grant_type": "client_credentials", "client_id": created["client_id"]},
        headers=basic(created["client_id"], created["client_secret"]),
    ).json()["access_token"]
    patched = seeded.http.patch(
        url,
        json={
            "redirect_uris": [APP],
            "post_logout_redirect_uris": ["https://app.example.com/bye"],
            "backchannel_logout_uri": "https://app.example.com/bc",
            "first_party": True,
        },
        headers=admin,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["redirect_uris"], body["first_party"]) == ([APP], True)
    assert body["post_logout_redirect_uris"] == ["https://app.example.com/bye"]
    assert body["backchannel_logout_uri"] == "https://app.example.com/bc"
    assert introspect(seeded, token, introspector)["active"] is True  # fewer redirect URIs: no revocation
    cleared = seeded.http.patch(url, json={"backchannel_logout_uri": None}, headers=admin).json()
    assert (cleared["backchannel_logout_uri"], cleared["redirect_uris"]) == (None, [APP])
    problem(seeded.http.patch(url, json={"redirect_uris": []}, headers=admin), 422, "redirect_uris")
    bad = seeded.http.patch(url, json={"redirect_uris": ["http://app.example.com/"]}, headers=admin)
    problem(bad, 422, "redirect_uris")
    assert seeded.http.get(url, headers=admin).json()["redirect_uris"] == [APP]  # refused: unchanged
    # dropping the code grant drops response_types with it (a narrowing grant: tokens revoked)
    m2m = seeded.http.patch(url, json={"grant_types": ["client_credentials"]}, headers=admin).json()
    assert m2m["response_types"] == []
    assert introspect(seeded, token, introspector) == INACTIVE
    again = seeded.http.patch(url, json={"grant_types": [CODE, "client_credentials"]}, headers=admin).json()
    assert again["response_types"] == ["code"]
    audit = seeded.http.get(
        "/api/1/admin/audit-events", params={"target_id": created["client_id"]}, headers=admin
    )
    assert audit.status_code == 200, audit.text
    changes = [e["details"] for e in audit.json()["items"] if e["action"] == "client.update"]
    assert any(d.get("first_party") is True for d in changes), changes
