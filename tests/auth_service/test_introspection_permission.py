"""Introspection by permission (RFC 7662 section 4): a client sees only the tokens meant for it.

The issue's case: any confidential client, even one with no scopes, introspected any user's access
or refresh token and learnt the e-mail and roles, and could test a stolen refresh token without
tripping reuse detection. Now an access token is shown to the client it was issued to and to the
resource server it is for (a client registered with ``resource_server``); a refresh token only to
its own client. Everything else is ``{"active": false}``, exactly as for a token that does not
exist. ``token_type`` is ``Bearer`` for access tokens and absent for refresh tokens.
"""

from __future__ import annotations

from typing import Any

import pytest

from auth_service.audit.service import Actor
from auth_service.clients.schemas import ClientCreate, ClientWithSecret
from auth_service.powers.service import OPERATOR_ID
from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    AuthClient,
    basic,
)
from tests.auth_service.test_refresh_and_revocation import INACTIVE, introspect
from tests.auth_service.test_token_grants import claims_of

OPERATOR = Actor(id=OPERATOR_ID)


def register(auth: AuthClient, **fields: Any) -> ClientWithSecret:
    client: ClientWithSecret = auth.call(
        auth.services.clients.create, ClientCreate(**{"client_name": "svc", **fields}), OPERATOR
    )
    return client


def credentials(client: ClientWithSecret) -> dict[str, str]:
    return basic(client.client_id, client.client_secret or "")


def refresh(auth: AuthClient, token: str) -> Any:
    return auth.token({"grant_type": "refresh_token", "client_id": "first-party", "refresh_token": token})


@pytest.fixture
def bystander(seeded: AuthClient) -> dict[str, str]:
    """A confidential client with no scopes and no resource: it may see its own tokens only."""
    return credentials(register(seeded))


def test_a_client_without_permission_sees_no_other_clients_tokens(
    seeded: AuthClient, bystander: dict[str, str]
) -> None:
    session = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    assert introspect(seeded, session["access_token"], bystander) == INACTIVE
    assert introspect(seeded, session["refresh_token"], bystander) == INACTIVE
    service = register(seeded, scope="customers:read")
    its_token = seeded.token({"grant_type": "client_credentials"}, headers=credentials(service)).json()
    assert introspect(seeded, its_token["access_token"], bystander) == INACTIVE


def test_testing_a_refresh_token_trips_nothing_and_tells_nothing(
    seeded: AuthClient, bystander: dict[str, str]
) -> None:
    session = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    for _ in range(3):
        assert introspect(seeded, session["refresh_token"], bystander) == INACTIVE
    # the same answer as for a token that never existed
    assert introspect(seeded, "never-issued-" + session["refresh_token"], bystander) == INACTIVE
    # the session lives on: the owner's refresh works, and so does the next one
    rotated = refresh(seeded, session["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    assert refresh(seeded, rotated.json()["refresh_token"]).status_code == 200


def test_a_resource_server_sees_the_tokens_meant_for_it(seeded: AuthClient) -> None:
    customers = credentials(register(seeded, resource_server="customers"))
    session = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    assert "customers" in _audiences(session["access_token"])
    answer = introspect(seeded, session["access_token"], customers)
    claims = claims_of(session["access_token"])
    assert answer["active"] is True
    assert answer["token_type"] == "Bearer"
    assert answer["client_id"] == "first-party"
    assert answer["sub"] == claims["sub"]
    assert answer["username"] == AGENT_EMAIL
    assert (answer["exp"], answer["jti"], answer["aud"]) == (claims["exp"], claims["jti"], claims["aud"])
    # the login behind it, so a resource server that introspects can require step-up (RFC 9470)
    assert (answer["auth_time"], answer["amr"], answer["acr"]) == (claims["auth_time"], ["pwd"], "1")
    # a refresh token is its client's business only, resource server or not
    assert introspect(seeded, session["refresh_token"], customers) == INACTIVE


def test_a_resource_server_does_not_see_tokens_for_another_resource(seeded: AuthClient) -> None:
    customers = credentials(register(seeded, resource_server="customers"))
    auth_token = seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]
    assert _audiences(auth_token) == ["auth"]
    assert introspect(seeded, auth_token, customers) == INACTIVE
    auth_server = credentials(register(seeded, resource_server="auth"))
    shown = introspect(seeded, auth_token, auth_server)
    assert (shown["active"], shown["token_type"]) == (True, "Bearer")


def test_a_client_sees_its_own_tokens(seeded: AuthClient) -> None:
    app = register(seeded, grant_types=["password", "refresh_token"], scope="customers:read")
    form = {"grant_type": "password", "username": AGENT_EMAIL, "password": AGENT_PASSWORD}
    issued = seeded.token(form, headers=credentials(app))
    assert issued.status_code == 200, issued.text
    tokens = issued.json()
    own_refresh = introspect(seeded, tokens["refresh_token"], credentials(app))
    assert own_refresh["active"] is True
    assert "token_type" not in own_refresh
    assert own_refresh["client_id"] == app.client_id
    assert own_refresh["username"] == AGENT_EMAIL
    assert own_refresh["sub"] == claims_of(tokens["access_token"])["sub"]
    own_access = introspect(seeded, tokens["access_token"], credentials(app))
    assert (own_access["active"], own_access["token_type"]) == (True, "Bearer")
    # introspecting one's own refresh token does not use it up; once used, it is no longer active
    assert refresh_with(seeded, app, tokens["refresh_token"]).status_code == 200
    assert introspect(seeded, tokens["refresh_token"], credentials(app)) == INACTIVE


def test_client_tokens_answer_without_empty_claims(seeded: AuthClient) -> None:
    service = register(seeded, scope="customers:read")
    token = seeded.token({"grant_type": "client_credentials"}, headers=credentials(service)).json()
    answer = introspect(seeded, token["access_token"], credentials(service))
    assert answer["active"] is True
    assert answer["sub"] == answer["client_id"] == service.client_id
    assert "roles" not in answer
    assert "username" not in answer
    assert "amr" not in answer  # no person logged in


def refresh_with(auth: AuthClient, client: ClientWithSecret, token: str) -> Any:
    return auth.token({"grant_type": "refresh_token", "refresh_token": token}, headers=credentials(client))


def _audiences(token: str) -> list[str]:
    aud = claims_of(token)["aud"]
    return [aud] if isinstance(aud, str) else list(aud)
