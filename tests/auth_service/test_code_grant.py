"""The authorization code grant at ``/oauth/token`` (RFC 6749 section 4.1.3, RFC 7636): the attacks
a client can try with a code, and what a good exchange issues.

Codes are stored as the authorization endpoint stores them (``code_flow.store_code``); everything
the client sees goes over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from auth_service.app import app_for
from auth_service.wiring import build_services
from tests.auth_service import code_flow
from tests.auth_service.code_flow import (
    CLI,
    CLI_REDIRECT,
    exchange,
    exchanged,
    pkce,
    refresh,
    refused_at_me,
    store_code,
    user_id,
)
from tests.auth_service.conftest import (
    AGENT_EMAIL,
    AGENT_PASSWORD,
    SYSTEM,
    AuthClient,
    SettingsFactory,
    basic,
)
from tests.auth_service.test_token_grants import assert_oauth_error, claims_of

AGENT_SCOPES = ["customers:read", "customers:write"]


@pytest.fixture(autouse=True, params=["read back", "kept in process"])
def code_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every attack and exchange twice: a code this process just issued (``FreshCodes``) and one read
    from PostgreSQL (made by another replica, or before a restart): the answers must not differ."""
    monkeypatch.setattr(code_flow, "KEEP_IN_PROCESS", request.param == "kept in process")


def agent_code(auth: AuthClient, challenge: str, **kwargs: Any) -> str:
    kwargs.setdefault("scopes", AGENT_SCOPES)
    kwargs.setdefault("resources", ["customers"])
    return store_code(auth, user_id(auth, AGENT_EMAIL), challenge, **kwargs)


def test_a_code_is_exchanged_once_for_tokens_of_its_grant(seeded: AuthClient) -> None:
    verifier, challenge = pkce()
    body = exchanged(seeded, agent_code(seeded, challenge), verifier)
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "customers:read customers:write"
    assert "id_token" not in body  # no openid asked
    claims = claims_of(body["access_token"])
    assert claims["aud"] == "customers"
    assert claims["client_id"] == CLI
    assert claims["sub"] == str(user_id(seeded, AGENT_EMAIL))
    again = refresh(seeded, body["refresh_token"])  # a session like any other: rotation
    assert again.status_code == 200, again.text
    assert claims_of(again.json()["access_token"])["sid"] == claims["sid"]


def test_pkce_is_required_and_only_s256_matches(seeded: AuthClient) -> None:
    verifier, challenge = pkce()
    code = agent_code(seeded, challenge)
    assert_oauth_error(exchange(seeded, code, None), 400, "invalid_request")
    assert_oauth_error(exchange(seeded, code, "too-short"), 400, "invalid_request")
    assert_oauth_error(exchange(seeded, code, verifier + "!"), 400, "invalid_request")
    exchanged(seeded, code, verifier)  # refused before the claim: the code was still unused
    # plain (RFC 7636 section 4.2): the challenge is the verifier itself, which S256 never matches
    plain = pkce()[0][:43]
    assert_oauth_error(exchange(seeded, agent_code(seeded, plain), plain), 400, "invalid_grant")


def test_a_wrong_verifier_uses_the_code_up(seeded: AuthClient) -> None:
    verifier, challenge = pkce()
    code = agent_code(seeded, challenge)
    assert_oauth_error(exchange(seeded, code, pkce()[0]), 400, "invalid_grant")
    assert_oauth_error(exchange(seeded, code, verifier), 400, "invalid_grant")  # no second try


@pytest.mark.parametrize(
    "presented",
    [
        "http://127.0.0.1:53682/callback/",
        "http://127.0.0.1:53682/callback?x=1",
        "http://127.0.0.1:53682/CALLBACK",
        "http://127.0.0.1:53682/x/../callback",
        "http://127.0.0.1:53683/callback",
        "http://localhost:53682/callback",
    ],
)
def test_the_redirect_uri_must_be_the_codes_exactly(seeded: AuthClient, presented: str) -> None:
    verifier, challenge = pkce()
    code = agent_code(seeded, challenge)
    assert_oauth_error(exchange(seeded, code, verifier, redirect_uri=presented), 400, "invalid_grant")
    assert_oauth_error(exchange(seeded, code, verifier), 400, "invalid_grant")  # used up
    missing = exchange(seeded, agent_code(seeded, challenge), verifier, redirect_uri="")
    assert_oauth_error(missing, 400, "invalid_request")


def test_a_second_use_revokes_what_the_first_issued(seeded: AuthClient) -> None:
    verifier, challenge = pkce()
    code = agent_code(seeded, challenge, resources=["auth", "customers"])
    first = exchanged(seeded, code, verifier)
    me = seeded.http.get("/api/1/users/me", headers=seeded.bearer(first["access_token"]))
    assert me.status_code == 200
    replay = exchange(seeded, code, verifier)
    assert_oauth_error(replay, 400, "invalid_grant")
    assert "revoked" in replay.json()["error_description"]
    refused_at_me(seeded, first["access_token"])
    assert_oauth_error(refresh(seeded, first["refresh_token"]), 400, "invalid_grant")
    events = seeded.http.get(
        "/api/1/admin/audit-events", params={"action": "code.reuse"}, headers=admin_bearer(seeded)
    ).json()
    assert [e["target_id"] for e in events["items"]] == [claims_of(first["access_token"])["sid"]]


def admin_bearer(auth: AuthClient) -> dict[str, str]:
    from tests.auth_service.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

    return auth.bearer(auth.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])


def test_a_code_of_another_client_is_refused_and_left_unused(seeded: AuthClient) -> None:
    other = seeded.create_client(
        client_name="web app",
        grant_types=["authorization_code", "refresh_token"],
        scope="customers:read",
        redirect_uris=[CLI_REDIRECT],
    )
    credentials = basic(other.client_id, other.client_secret or "")
    verifier, challenge = pkce()
    code = agent_code(seeded, challenge)
    stolen = exchange(seeded, code, verifier, client_id="", headers=credentials)
    assert_oauth_error(stolen, 400, "invalid_grant")
    exchanged(seeded, code, verifier)  # still its own client's


def test_a_confidential_client_authenticates(seeded: AuthClient) -> None:
    web = seeded.create_client(
        client_name="web app",
        grant_types=["authorization_code"],
        scope="customers:read",
        redirect_uris=["https://app.example.com/cb"],
    )
    verifier, challenge = pkce()
    code = agent_code(
        seeded, challenge, client_id=web.client_id, redirect_uri="https://app.example.com/cb",
        scopes=["customers:read"],
    )  # fmt: skip
    unauthenticated = exchange(
        seeded, code, verifier, client_id=web.client_id, redirect_uri="https://app.example.com/cb"
    )
    assert_oauth_error(unauthenticated, 401, "invalid_client")
    body = exchanged(
        seeded, code, verifier, client_id="", redirect_uri="https://app.example.com/cb",
        headers=basic(web.client_id, web.client_secret or ""),
    )  # fmt: skip
    assert body["scope"] == "customers:read"
    assert "refresh_token" not in body  # no refresh_token grant


def test_a_client_without_the_grant_is_unauthorized(seeded: AuthClient) -> None:
    verifier, challenge = pkce()
    code = agent_code(seeded, challenge, client_id="first-party")
    assert_oauth_error(exchange(seeded, code, verifier, client_id="first-party"), 400, "unauthorized_client")


@pytest.fixture
def clocked(make_settings: SettingsFactory) -> Iterator[tuple[AuthClient, list[float]]]:
    import time

    now = [time.time()]
    services = build_services(make_settings(), clock=lambda: now[0])
    with TestClient(app_for(services)) as client:
        auth = AuthClient(client, services)
        auth.create_user(AGENT_EMAIL, AGENT_PASSWORD, ["agent"])
        yield auth, now


def test_a_code_expires(clocked: tuple[AuthClient, list[float]]) -> None:
    auth, now = clocked
    verifier, challenge = pkce()
    fresh, stale = agent_code(auth, challenge, ttl=60), agent_code(auth, challenge, ttl=60)
    now[0] += 55
    exchanged(auth, fresh, verifier)
    now[0] += 10
    assert_oauth_error(exchange(auth, stale, verifier), 400, "invalid_grant")


def test_the_login_must_still_hold(seeded: AuthClient) -> None:
    """An ended browser session, a disabled account, a role lost since the code was issued."""
    agent = user_id(seeded, AGENT_EMAIL)
    sessions = seeded.services.browser.browser_sessions
    session, _ = seeded.call(
        sessions.start, agent, amr=["pwd"], acr="1", source_ip=None, user_agent=None, replacing=None
    )
    verifier, challenge = pkce()
    live, ended = (agent_code(seeded, challenge, browser_session_id=session.id) for _ in range(2))
    body = exchanged(seeded, live, verifier)
    seeded.call(sessions.end, session.id, "logout", SYSTEM)
    assert_oauth_error(exchange(seeded, ended, verifier), 400, "invalid_grant")
    assert_oauth_error(refresh(seeded, body["refresh_token"]), 400, "invalid_grant")  # its family ended
    asked = agent_code(seeded, challenge, scopes=["customers:delete", "customers:read"])
    assert exchanged(seeded, asked, verifier)["scope"] == "customers:read"  # the agent lacks delete
    code = agent_code(seeded, challenge)
    from auth_service.users.schemas import UserUpdate

    seeded.call(seeded.services.users.update, agent, UserUpdate(status="disabled"), SYSTEM)
    assert_oauth_error(exchange(seeded, code, verifier), 400, "invalid_grant")


def test_resource_narrows_within_the_codes_audience(seeded: AuthClient) -> None:
    verifier, challenge = pkce()
    both = ["auth", "customers"]
    narrowed = exchanged(
        seeded, agent_code(seeded, challenge, resources=both), verifier, resource="customers"
    )
    assert claims_of(narrowed["access_token"])["aud"] == "customers"
    beyond = exchange(seeded, agent_code(seeded, challenge), verifier, resource="auth")
    assert_oauth_error(beyond, 400, "invalid_target")


def test_the_legacy_password_grant_can_be_switched_off(make_settings: SettingsFactory) -> None:
    from tests.auth_service.conftest import serving
    from tests.auth_service.test_token_grants import password_form

    with serving(make_settings(password_grant_enabled=False)) as auth:
        auth.create_user(AGENT_EMAIL, AGENT_PASSWORD, ["agent"])
        assert_oauth_error(
            auth.token(password_form(AGENT_EMAIL, AGENT_PASSWORD)), 400, "unsupported_grant_type"
        )
        verifier, challenge = pkce()
        exchanged(auth, agent_code(auth, challenge), verifier)  # the browser flow still works
