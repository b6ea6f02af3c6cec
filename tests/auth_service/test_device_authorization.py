"""``POST /oauth/device_authorization`` (RFC 8628 section 3.1-3.2) and the user codes it hands out."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import pytest

from auth_service.device.user_codes import ALPHABET, display, new_user_code, normalise
from auth_service.random_secrets import digest
from tests.auth_service.conftest import AuthClient, basic

CLI = "auth-cli"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def start(auth: AuthClient, **form: str | list[str]) -> Any:
    return auth.http.post("/oauth/device_authorization", data={"client_id": CLI, **form})


def stored(auth: AuthClient, auth_db: str, device_code: str) -> asyncpg.Record | None:
    async def row() -> asyncpg.Record | None:
        conn = await asyncpg.connect(auth_db)
        try:
            return await conn.fetchrow(
                "SELECT user_code, client_id, scope, resources, status, interval_seconds,"
                " extract(epoch FROM expires_at - created_at)::int AS ttl"
                " FROM device_authorizations WHERE device_digest = $1",
                digest(device_code),
            )
        finally:
            await conn.close()

    result: asyncpg.Record | None = auth.call(row)
    return result


def test_user_codes_are_typed_forgivingly_and_refused_when_impossible() -> None:
    code = new_user_code()
    assert len(code) == 8
    assert set(code) <= set(ALPHABET)
    assert normalise(display(code).lower()) == code
    assert normalise(" bcdf ghjk ") == "BCDFGHJK"
    assert normalise("BCDF-GHJA") is None  # a vowel is never in a code
    assert normalise("BCDF-GHJ") is None
    assert normalise(None) is None


def test_a_public_client_gets_a_device_code_and_a_user_code(auth: AuthClient, auth_db: str) -> None:
    response = start(auth)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert re.fullmatch(f"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}", body["user_code"])
    assert body["verification_uri"] == "http://auth.test/device"
    assert body["verification_uri_complete"] == f"http://auth.test/device?user_code={body['user_code']}"
    assert (body["expires_in"], body["interval"]) == (600, 5)
    row = stored(auth, auth_db, body["device_code"])
    assert row is not None  # only the digest of the device code is stored
    assert row["user_code"] == body["user_code"].replace("-", "")
    assert (row["client_id"], row["status"], row["interval_seconds"], row["ttl"]) == (CLI, "pending", 5, 600)
    # No scope: the client's scopes within its default audience.
    assert row["resources"] == ["customers"]
    assert row["scope"] == "customers:delete customers:read customers:write"


def test_the_settings_choose_lifetime_and_interval(make_settings: Any) -> None:
    from tests.auth_service.conftest import serving

    with serving(make_settings(device_code_ttl=120, device_poll_interval=2)) as auth:
        body = start(auth).json()
    assert (body["expires_in"], body["interval"]) == (120, 2)


def test_identity_scopes_alone_ask_for_the_userinfo_audience(auth: AuthClient, auth_db: str) -> None:
    body = start(auth, scope="openid profile email").json()
    row = stored(auth, auth_db, body["device_code"])
    assert row is not None
    assert (row["scope"], row["resources"]) == ("email openid profile", ["http://auth.test/userinfo"])


def test_identity_and_resource_scopes_resolve_the_audience(auth: AuthClient, auth_db: str) -> None:
    body = start(auth, scope="openid customers:read").json()
    row = stored(auth, auth_db, body["device_code"])
    assert row is not None
    assert (row["scope"], row["resources"]) == ("customers:read openid", ["customers"])


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"scope": "openid nosuch:scope"}, "invalid_scope"),  # a scope the client may not have
        ({"scope": "openid bad\\scope"}, "invalid_scope"),
        ({"resource": "https://elsewhere.example"}, "invalid_target"),
        ({"scope": "customers:read", "resource": "auth"}, "invalid_scope"),  # not owned by that audience
        ({"scope": "a", "client_id": ["auth-cli", "auth-cli"]}, "invalid_request"),
    ],
)
def test_bad_requests_are_rfc_6749_errors(auth: AuthClient, form: dict[str, Any], error: str) -> None:
    response = auth.http.post("/oauth/device_authorization", data={"client_id": CLI, **form})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("application/json")


def test_a_client_without_the_device_grant_is_unauthorized(auth: AuthClient) -> None:
    response = start(auth, client_id="first-party")
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_client_authentication_is_the_token_endpoints(auth: AuthClient) -> None:
    unknown = start(auth, client_id="nobody")
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "invalid_client"
    confidential = auth.create_client(grant_types=["client_credentials"], scope="customers:read")
    secret = confidential.client_secret or ""
    wrong = auth.http.post(
        "/oauth/device_authorization",
        data={"scope": "customers:read"},
        headers=basic(confidential.client_id, "no"),
    )
    assert wrong.status_code == 401
    right = auth.http.post(
        "/oauth/device_authorization",
        data={"scope": "customers:read"},
        headers=basic(confidential.client_id, secret),
    )
    assert right.status_code == 400
    assert right.json()["error"] == "unauthorized_client"  # authenticated, but no device grant


def test_the_body_must_be_a_form(auth: AuthClient) -> None:
    response = auth.http.post("/oauth/device_authorization", json={"client_id": CLI})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
