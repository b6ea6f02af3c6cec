"""Refresh rotation with reuse detection, family lifetime, revocation (RFC 7009), introspection (RFC 7662)."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    AuthClient,
)
from tests.auth_service.revocation_stream import stream_entry
from tests.auth_service.test_token_grants import assert_oauth_error, claims_of


def refresh(auth: AuthClient, token: str, **extra: str) -> Any:
    return auth.token(
        {"grant_type": "refresh_token", "client_id": "first-party", "refresh_token": token, **extra}
    )


INACTIVE = {"active": False}
"""What introspection answers for every token it will not describe (RFC 7662 §2.2)."""


def introspect(auth: AuthClient, token: str, headers: dict[str, str]) -> dict[str, Any]:
    response = auth.http.post("/oauth/introspect", data={"token": token}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


def test_refresh_rotates_and_keeps_the_session(seeded: AuthClient) -> None:
    first = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    second = refresh(seeded, first["refresh_token"])
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["refresh_token"] != first["refresh_token"]
    assert body["scope"] == "customers:read customers:write"
    old, new = claims_of(first["access_token"]), claims_of(body["access_token"])
    assert new["sub"] == old["sub"]
    assert new["sid"] == old["sid"]
    assert new["jti"] != old["jti"]
    assert refresh(seeded, body["refresh_token"]).status_code == 200


def test_refresh_can_narrow_scope_but_not_widen(seeded: AuthClient) -> None:
    first = seeded.login(AGENT_EMAIL, AGENT_PASSWORD, scope="customers:read")
    assert_oauth_error(refresh(seeded, first["refresh_token"], scope="customers:write"), 400, "invalid_scope")
    narrowed = refresh(seeded, first["refresh_token"], scope="customers:read")  # not consumed by the refusal
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["scope"] == "customers:read"


def test_reused_refresh_token_revokes_the_whole_family(
    seeded: AuthClient, introspector: dict[str, str]
) -> None:
    first = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    second = refresh(seeded, first["refresh_token"]).json()
    third = refresh(seeded, second["refresh_token"]).json()  # the successor used: no reuse grace
    reuse = refresh(seeded, first["refresh_token"])
    assert_oauth_error(reuse, 400, "invalid_grant")
    # the legitimate successor is dead too, and so are the access tokens issued in the session
    assert_oauth_error(refresh(seeded, third["refresh_token"]), 400, "invalid_grant")
    for session in (first, second, third):
        assert introspect(seeded, session["access_token"], introspector) == {"active": False}
    assert stream_entry(seeded, "sid", claims_of(first["access_token"])["sid"])
    admin = seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)
    events = seeded.http.get(
        "/api/1/admin/audit-events/",
        params={"action": "refresh.reuse"},
        headers=seeded.bearer(admin["access_token"]),
    ).json()["items"]
    assert len(events) == 1
    assert events[0]["outcome"] == "failure"
    assert events[0]["target_id"] == claims_of(first["access_token"])["sid"]


def test_refresh_token_is_bound_to_its_client(seeded: AuthClient) -> None:
    other = seeded.create_client(
        client_name="other app", grant_types=["refresh_token"], token_endpoint_auth_method="none"
    )
    first = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    form = {
        "grant_type": "refresh_token",
        "client_id": other.client_id,
        "refresh_token": first["refresh_token"],
    }
    assert_oauth_error(seeded.token(form), 400, "invalid_grant")
    assert refresh(seeded, first["refresh_token"]).status_code == 200  # still usable by its own client


def test_family_lifetime_is_absolute(seeded: AuthClient, auth_db: str) -> None:
    first = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)

    async def expire_family() -> None:
        conn = await asyncpg.connect(auth_db)
        try:
            await conn.execute("UPDATE refresh_families SET expires_at = now() - interval '1 second'")
        finally:
            await conn.close()

    seeded.call(expire_family)
    assert_oauth_error(refresh(seeded, first["refresh_token"]), 400, "invalid_grant")


def test_disabled_user_cannot_refresh(seeded: AuthClient) -> None:
    agent = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    admin = seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)
    user_id = claims_of(agent["access_token"])["sub"]
    seeded.http.post(f"/api/1/admin/users/{user_id}/disable", headers=seeded.bearer(admin["access_token"]))
    assert_oauth_error(refresh(seeded, agent["refresh_token"]), 400, "invalid_grant")
    # disabling also ended the user's sessions: re-enabling does not revive the old refresh token
    seeded.http.post(f"/api/1/admin/users/{user_id}/enable", headers=seeded.bearer(admin["access_token"]))
    assert_oauth_error(refresh(seeded, agent["refresh_token"]), 400, "invalid_grant")


# ---------------------------------------------------------------- RFC 7009
def test_revoking_a_refresh_token_ends_the_family(seeded: AuthClient, introspector: dict[str, str]) -> None:
    session = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    response = seeded.http.post(
        "/oauth/revoke", data={"token": session["refresh_token"], "client_id": "first-party"}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert_oauth_error(refresh(seeded, session["refresh_token"]), 400, "invalid_grant")
    assert introspect(seeded, session["access_token"], introspector) == {"active": False}


def test_revoking_an_access_token_revokes_it_everywhere(
    seeded: AuthClient, introspector: dict[str, str]
) -> None:
    session = seeded.login(AGENT_EMAIL, AGENT_PASSWORD, resource=["auth", "customers"])  # both audiences
    me = seeded.http.get("/api/1/users/me", headers=seeded.bearer(session["access_token"]))
    assert me.status_code == 200
    assert introspect(seeded, session["access_token"], introspector)["active"] is True
    response = seeded.http.post(
        "/oauth/revoke",
        data={
            "token": session["access_token"],
            "token_type_hint": "access_token",
            "client_id": "first-party",
        },
    )
    assert response.status_code == 200
    assert introspect(seeded, session["access_token"], introspector) == {"active": False}
    denied = seeded.http.get("/api/1/users/me", headers=seeded.bearer(session["access_token"]))
    assert denied.status_code == 401
    assert 'error="invalid_token"' in denied.headers["www-authenticate"]
    # recorded until the token's own expiry, and pushed to every verifier (the stream)
    claims = claims_of(session["access_token"])
    assert stream_entry(seeded, "jti", claims["jti"])["exp"] == str(claims["exp"])
    # the refresh token is untouched: revoking one access token is not a logout
    assert refresh(seeded, session["refresh_token"]).status_code == 200


def test_revoking_an_unknown_token_is_200(seeded: AuthClient) -> None:
    for token in ("not-a-token", "a.b.c"):
        response = seeded.http.post("/oauth/revoke", data={"token": token, "client_id": "first-party"})
        assert response.status_code == 200


def test_revoke_needs_client_authentication_and_the_token(seeded: AuthClient) -> None:
    assert_oauth_error(seeded.http.post("/oauth/revoke", data={"token": "x"}), 401, "invalid_client")
    assert_oauth_error(
        seeded.http.post("/oauth/revoke", data={"client_id": "first-party"}), 400, "invalid_request"
    )


def test_a_client_cannot_revoke_another_clients_token(
    seeded: AuthClient, introspector: dict[str, str]
) -> None:
    session = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    response = seeded.http.post(
        "/oauth/revoke", data={"token": session["refresh_token"]}, headers=introspector
    )
    assert_oauth_error(response, 400, "unauthorized_client")
    assert refresh(seeded, session["refresh_token"]).status_code == 200


# ---------------------------------------------------------------- RFC 7662
def test_introspection_of_live_tokens(seeded: AuthClient, introspector: dict[str, str]) -> None:
    session = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    access = introspect(seeded, session["access_token"], introspector)
    claims = claims_of(session["access_token"])
    assert access["active"] is True
    assert access["token_type"] == "Bearer"
    assert access["scope"] == "customers:read customers:write"
    assert access["client_id"] == "first-party"
    assert access["username"] == AGENT_EMAIL
    assert access["sub"] == claims["sub"]
    assert access["exp"] == claims["exp"]
    assert access["jti"] == claims["jti"]
    # a refresh token only to its own client (test_introspection_permission.py)
    assert introspect(seeded, session["refresh_token"], introspector) == {"active": False}


def test_introspection_of_used_garbage_and_foreign_tokens(
    seeded: AuthClient, introspector: dict[str, str]
) -> None:
    session = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    refresh(seeded, session["refresh_token"])
    assert introspect(seeded, session["refresh_token"], introspector) == {"active": False}
    assert introspect(seeded, "garbage", introspector) == {"active": False}
    tampered = session["access_token"][:-4] + (
        "AAAA" if not session["access_token"].endswith("AAAA") else "BBBB"
    )
    assert introspect(seeded, tampered, introspector) == {"active": False}


def test_introspection_requires_a_confidential_client(seeded: AuthClient) -> None:
    session = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    public = seeded.http.post(
        "/oauth/introspect", data={"token": session["access_token"], "client_id": "first-party"}
    )
    assert_oauth_error(public, 401, "invalid_client")
    anonymous = seeded.http.post("/oauth/introspect", data={"token": session["access_token"]})
    assert_oauth_error(anonymous, 401, "invalid_client")
