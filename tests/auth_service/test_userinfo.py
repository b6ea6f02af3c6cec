"""``/userinfo`` (OpenID Connect Core section 5.3) as a client calls it: GET or POST with the login's
access token (any audience of ours), the claims its scopes release and no others, RFC 6750
challenges for every refusal, and the account read again (disabled: 401)."""

from __future__ import annotations

from typing import Any

import jwt

from auth_service.users.schemas import UserUpdate
from tests.auth_service.code_flow import exchanged, pkce, store_code, user_id
from tests.auth_service.conftest import AGENT_EMAIL, SYSTEM, AuthClient
from tests.auth_service.test_token_grants import claims_of

USERINFO = "http://auth.test/userinfo"
PROBLEM = "application/problem+json"


def login_tokens(auth: AuthClient, scopes: list[str], resources: list[str]) -> dict[str, Any]:
    verifier, challenge = pkce()
    code = store_code(auth, user_id(auth, AGENT_EMAIL), challenge, scopes=scopes, resources=resources)
    body: dict[str, Any] = exchanged(auth, code, verifier)
    return body


def profile_agent(auth: AuthClient) -> None:
    update = UserUpdate(email_verified=True, name="Agent Smith", given_name="Agent", locale="en")
    auth.call(auth.services.users.update, user_id(auth, AGENT_EMAIL), update, SYSTEM)


def test_userinfo_answers_the_claims_of_the_granted_scopes_by_get_and_post(seeded: AuthClient) -> None:
    profile_agent(seeded)
    tokens = login_tokens(seeded, ["email", "openid", "profile"], [USERINFO])
    assert claims_of(tokens["access_token"])["aud"] == USERINFO
    headers = seeded.bearer(tokens["access_token"])
    answer = seeded.http.get("/userinfo", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert "no-store" in answer.headers["cache-control"]
    body = answer.json()
    sub = str(user_id(seeded, AGENT_EMAIL))
    updated_at = body.pop("updated_at")
    assert isinstance(updated_at, int)
    assert body == {
        "sub": sub,
        "email": AGENT_EMAIL,
        "email_verified": True,
        "name": "Agent Smith",
        "given_name": "Agent",
        "locale": "en",
    }  # family_name is absent: omitted, never null
    assert seeded.http.post("/userinfo", headers=headers).json() == {**body, "updated_at": updated_at}
    id_token = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert id_token["sub"] == sub  # the ID token and /userinfo speak of the same person


def test_only_the_scopes_granted_release_claims(seeded: AuthClient) -> None:
    email_only = login_tokens(seeded, ["email", "openid"], [USERINFO])
    body = seeded.http.get("/userinfo", headers=seeded.bearer(email_only["access_token"])).json()
    assert body == {"sub": str(user_id(seeded, AGENT_EMAIL)), "email": AGENT_EMAIL, "email_verified": False}
    # a token for a resource server opens /userinfo too, when openid rides along
    beside = login_tokens(seeded, ["customers:read", "openid"], ["customers"])
    assert claims_of(beside["access_token"])["aud"] == "customers"
    answer = seeded.http.get("/userinfo", headers=seeded.bearer(beside["access_token"]))
    assert answer.json() == {"sub": str(user_id(seeded, AGENT_EMAIL))}


def test_a_token_without_openid_is_403_insufficient_scope(seeded: AuthClient) -> None:
    tokens = login_tokens(seeded, ["email"], [USERINFO])
    refused = seeded.http.get("/userinfo", headers=seeded.bearer(tokens["access_token"]))
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    challenge = refused.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="auth", error="insufficient_scope"')
    assert 'scope="openid"' in challenge
    admin = seeded.admin_login(AGENT_EMAIL, "matrix reloaded violet sunrise")["access_token"]
    assert seeded.http.get("/userinfo", headers=seeded.bearer(admin)).status_code == 403  # no openid


def test_no_bad_or_dead_tokens_get_401_with_a_challenge(seeded: AuthClient) -> None:
    anonymous = seeded.http.get("/userinfo")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="auth"'
    assert anonymous.headers["content-type"] == PROBLEM
    for header in ["Basic abc", "Bearer", "Bearer a b", "Bearer not.a.jwt"]:
        refused = seeded.http.get("/userinfo", headers={"Authorization": header})
        assert refused.status_code == 401, header
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    tokens = login_tokens(seeded, ["openid", "profile"], [USERINFO])
    id_token = seeded.http.get("/userinfo", headers=seeded.bearer(tokens["id_token"]))
    assert id_token.status_code == 401  # an ID token is not an access token
    headers = seeded.bearer(tokens["access_token"])
    assert seeded.http.get("/userinfo", headers=headers).status_code == 200
    seeded.call(
        seeded.services.users.update, user_id(seeded, AGENT_EMAIL), UserUpdate(status="disabled"), SYSTEM
    )
    gone = seeded.http.get("/userinfo", headers=headers)
    assert gone.status_code == 401
    assert 'error="invalid_token"' in gone.headers["www-authenticate"]
