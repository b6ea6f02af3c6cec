"""What an access token says of the login behind it (``auth_time``, ``amr``, ``acr``: RFC 9068
section 2.2.1), grant by grant, and that every token refreshed from a login says the same as the
first: a refresh is no new authentication, so it can neither pass a resource server's step-up
(RFC 9470) nor reset its ``max_age``."""

from __future__ import annotations

import secrets
import time
from typing import Any

import asyncpg

from auth_service.random_secrets import digest
from auth_service.tokens.codes import CodeRepository, NewCode
from tests.auth_service.code_flow import CLI, CLI_REDIRECT, exchanged, pkce, refresh, user_id
from tests.auth_service.conftest import AGENT_EMAIL, AGENT_PASSWORD, AuthClient, basic
from tests.auth_service.test_token_grants import claims_of

RFC_9068 = {"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"}
LOGGED_IN_LONG_AGO = 1_700_000_000
MFA_LOGIN = {"auth_time": LOGGED_IN_LONG_AGO, "amr": ["pwd", "otp", "mfa"], "acr": "2"}


def login_of(token: str) -> dict[str, Any]:
    claims = claims_of(token)
    assert claims.keys() >= RFC_9068
    return {name: claims[name] for name in ("auth_time", "amr", "acr") if name in claims}


def mfa_code(auth: AuthClient, challenge: str) -> str:
    """A code as the authorization endpoint stores it after a login with a second factor."""
    code = secrets.token_urlsafe(32)
    new = NewCode(
        client_id=CLI, user_id=user_id(auth, AGENT_EMAIL), browser_session_id=None, redirect_uri=CLI_REDIRECT,
        scopes=["customers:read"], resources=["customers"], code_challenge=challenge, nonce=None,
        auth_time=LOGGED_IN_LONG_AGO, amr=["pwd", "otp", "mfa"], acr="2",
    )  # fmt: skip

    async def run() -> None:
        async with auth.services.pool.acquire() as conn:
            await CodeRepository().create(conn, digest(code), new, 60)

    auth.call(run)
    return code


def refreshed(auth: AuthClient, token: str, client_id: str = CLI) -> dict[str, Any]:
    response = refresh(auth, token, client_id=client_id)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_password_grant_is_one_factor_and_its_refreshes_say_so(seeded: AuthClient) -> None:
    before = int(time.time())
    body = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)
    login = login_of(body["access_token"])
    assert (login["amr"], login["acr"]) == (["pwd"], "1")
    assert before <= login["auth_time"] <= int(time.time())
    again = refreshed(seeded, body["refresh_token"], client_id="first-party")
    assert login_of(again["access_token"]) == login


def test_a_code_carries_its_logins_assurance_through_every_refresh(seeded: AuthClient, auth_db: str) -> None:
    verifier, challenge = pkce()
    body = exchanged(seeded, mfa_code(seeded, challenge), verifier)
    assert login_of(body["access_token"]) == MFA_LOGIN
    first = refreshed(seeded, body["refresh_token"])
    second = refreshed(seeded, first["refresh_token"])
    for tokens in (first, second):  # years after the login: still the login's auth_time
        assert login_of(tokens["access_token"]) == MFA_LOGIN

    async def stored() -> Any:
        conn = await asyncpg.connect(auth_db)
        try:
            return await conn.fetchrow(
                "SELECT extract(epoch FROM auth_time)::bigint AS auth_time, amr, acr FROM refresh_families"
                " WHERE id = $1::uuid",
                claims_of(body["access_token"])["sid"],
            )
        finally:
            await conn.close()

    assert dict(seeded.call(stored)) == MFA_LOGIN


def test_a_repeat_within_the_reuse_grace_says_the_same(seeded: AuthClient) -> None:
    """The replayed successor's access token is minted anew (``successors.py``): the same login."""
    verifier, challenge = pkce()
    body = exchanged(seeded, mfa_code(seeded, challenge), verifier)
    first = refreshed(seeded, body["refresh_token"])
    repeat = refreshed(seeded, body["refresh_token"])
    assert repeat["refresh_token"] == first["refresh_token"]
    assert login_of(repeat["access_token"]) == MFA_LOGIN


def test_a_clients_token_for_itself_says_nothing_of_a_login(auth: AuthClient) -> None:
    client = auth.create_client(scope="customers:read")
    response = auth.token(
        {"grant_type": "client_credentials"}, headers=basic(client.client_id, client.client_secret or "")
    )
    assert response.status_code == 200, response.text
    claims = claims_of(response.json()["access_token"])
    assert claims["sub"] == claims["client_id"]
    assert login_of(response.json()["access_token"]) == {}


def test_a_session_older_than_the_record_refreshes_without_it(seeded: AuthClient, auth_db: str) -> None:
    """Families from before migration 0009 do not know their login: their tokens claim nothing
    (and so pass no step-up) rather than a guess."""
    body = seeded.login(AGENT_EMAIL, AGENT_PASSWORD)

    async def forget() -> None:
        conn = await asyncpg.connect(auth_db)
        try:
            await conn.execute(
                "UPDATE refresh_families SET auth_time = NULL, amr = NULL, acr = NULL WHERE id = $1::uuid",
                claims_of(body["access_token"])["sid"],
            )
        finally:
            await conn.close()

    seeded.call(forget)
    again = refreshed(seeded, body["refresh_token"], client_id="first-party")
    assert login_of(again["access_token"]) == {}
