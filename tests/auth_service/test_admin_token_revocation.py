"""``POST /api/1/admin/tokens/revoke``: an admin revokes any token of this issuer.

The issue's case: a ``client_credentials`` token could be revoked only by the client holding it
(``/oauth/revoke`` refuses anyone else), so a leaked service token lived out its lifetime. Now a
user's token needs ``admin:users`` and a client's own token ``admin:clients``; an unknown or
expired token is a success (RFC 7009), for a caller in one of those areas only; every revocation
is audited as ``token.revoke`` by the admin.
"""

from __future__ import annotations

from typing import Any

from auth_service.powers.service import ADMIN_AUDIT, ADMIN_CLIENTS, ADMIN_USERS
from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    AuthClient,
    basic,
)
from tests.auth_service.revocation_stream import recorded
from tests.auth_service.test_admin_powers import bearer, holder
from tests.auth_service.test_refresh_and_revocation import INACTIVE, introspect, refresh
from tests.auth_service.test_token_grants import assert_oauth_error, claims_of

PATH = "/api/1/admin/tokens/revoke"


def service_token(auth: AuthClient) -> str:
    """A client_credentials token of a batch job: the client's own, no user in it."""
    job = auth.create_client(client_name="batch job", scope="customers:read")
    issued = auth.token(
        {"grant_type": "client_credentials"}, headers=basic(job.client_id, job.client_secret or "")
    )
    token: str = issued.json()["access_token"]
    return token


def revoke(auth: AuthClient, token: str, headers: dict[str, str]) -> Any:
    return auth.http.post(PATH, json={"token": token}, headers=headers)


def insufficient_scope(response: Any, scope: str | None) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/insufficient-scope")
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert (f'scope="{scope}"' in challenge) if scope else ("scope=" not in challenge)


def test_a_users_access_token_needs_admin_users_and_is_audited(
    seeded: AuthClient, introspector: dict[str, str]
) -> None:
    helpdesk = holder(seeded, "helpdesk@example.com", ADMIN_USERS)
    token = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"]
    insufficient_scope(revoke(seeded, token, bearer(seeded, _clients_admin(seeded))), ADMIN_USERS)
    assert introspect(seeded, token, introspector)["active"] is True
    assert revoke(seeded, token, bearer(seeded, helpdesk.email)).status_code == 204
    assert introspect(seeded, token, introspector) == INACTIVE
    assert recorded(seeded) == [("jti", claims_of(token)["jti"])]
    root = seeded.bearer(seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])
    events = seeded.http.get("/api/1/admin/audit-events/", params={"action": "token.revoke"}, headers=root)
    [event] = events.json()["items"]
    assert (event["actor"], event["target_type"], event["target_id"]) == (
        str(helpdesk.id),
        "access_token",
        claims_of(token)["jti"],
    )


def _clients_admin(auth: AuthClient) -> str:
    return holder(auth, "integrations@example.com", ADMIN_CLIENTS).email


def test_a_client_credentials_token_needs_admin_clients(
    seeded: AuthClient, introspector: dict[str, str]
) -> None:
    token = service_token(seeded)
    helpdesk = holder(seeded, "helpdesk@example.com", ADMIN_USERS)
    insufficient_scope(revoke(seeded, token, bearer(seeded, helpdesk.email)), ADMIN_CLIENTS)
    assert recorded(seeded) == []
    assert revoke(seeded, token, bearer(seeded, _clients_admin(seeded))).status_code == 204
    assert introspect(seeded, token, introspector) == INACTIVE


def test_a_refresh_token_ends_its_session(seeded: AuthClient, introspector: dict[str, str]) -> None:
    session = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    helpdesk = holder(seeded, "helpdesk@example.com", ADMIN_USERS)
    assert revoke(seeded, session["refresh_token"], bearer(seeded, helpdesk.email)).status_code == 204
    assert_oauth_error(refresh(seeded, session["refresh_token"]), 400, "invalid_grant")
    assert introspect(seeded, session["access_token"], introspector) == INACTIVE
    assert recorded(seeded) == [("sid", claims_of(session["access_token"])["sid"])]


def test_unknown_tokens_succeed_but_only_for_the_admin_areas(seeded: AuthClient) -> None:
    auditor = holder(seeded, "auditor@example.com", ADMIN_AUDIT)
    helpdesk = holder(seeded, "helpdesk@example.com", ADMIN_USERS)
    for token in ("not-a-token", "a.b.c"):
        assert revoke(seeded, token, bearer(seeded, helpdesk.email)).status_code == 204
        insufficient_scope(revoke(seeded, token, bearer(seeded, auditor.email)), None)
    assert recorded(seeded) == []
    empty = seeded.http.post(PATH, json={"token": ""}, headers=bearer(seeded, helpdesk.email))
    assert empty.status_code == 400, empty.text
    unknown_field = seeded.http.post(
        PATH, json={"token": "x", "t": 1}, headers=bearer(seeded, helpdesk.email)
    )
    assert unknown_field.status_code == 400, unknown_field.text


def test_the_route_is_documented(auth: AuthClient) -> None:
    operation = auth.http.get("/schema/openapi.json").json()["paths"][PATH]["post"]
    assert operation["operationId"] == "adminRevokeToken"
    assert {"204", "401", "403", "422"} <= set(operation["responses"])
    assert operation["security"] == [{"bearer": []}]
