"""Identity scopes (``openid profile email``) through the code grant: owned by no resource server,
they never choose the audience; alone they get the userinfo audience; beside resource scopes they
ride along; refreshes keep them; ``openid`` brings an ID token."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import jwt

from auth_service.clients.repository import ClientRecord, ClientRepository
from auth_service.tokens.audience import AudienceResolver
from tests.auth_service.code_flow import CLI, exchanged, pkce, refresh, store_code, user_id
from tests.auth_service.conftest import AGENT_EMAIL, AuthClient
from tests.auth_service.test_token_grants import assert_oauth_error, claims_of

USERINFO = "http://auth.test/userinfo"


def identity_code(auth: AuthClient, challenge: str, **kwargs: Any) -> str:
    return store_code(auth, user_id(auth, AGENT_EMAIL), challenge, **kwargs)


def test_the_resolver_gives_identity_only_requests_the_userinfo_audience(seeded: AuthClient) -> None:
    async def cli() -> ClientRecord:
        async with seeded.services.pool.acquire() as conn:
            record = await ClientRepository().get(conn, CLI)
        assert record is not None
        return record

    client: ClientRecord = seeded.call(cli)
    audiences = AudienceResolver(
        seeded.services.resource_registry, default_ttl=300, issuer="http://auth.test"
    )
    alone = audiences.resolve(client, None, ["email", "openid"])
    assert (alone.aud, alone.ttl) == (USERINFO, 300)
    assert alone.token_scopes(["email", "openid", "customers:read"], None) == ["email", "openid"]
    beside = audiences.resolve(client, None, ["customers:read", "openid"])
    assert beside.aud == "customers"
    assert beside.token_scopes(["customers:read", "openid"], None) == ["customers:read", "openid"]
    assert audiences.of([]) == alone == audiences.of([USERINFO])
    assert USERINFO in audiences.allowed(client)


def test_identity_only_gets_a_token_for_userinfo_alone(seeded: AuthClient) -> None:
    verifier, challenge = pkce()
    code = identity_code(seeded, challenge, scopes=["email", "profile"], resources=[USERINFO])
    body = exchanged(seeded, code, verifier)
    assert body["scope"] == "email profile"
    claims = claims_of(body["access_token"])
    assert claims["aud"] == USERINFO
    assert claims["scope"] == "email profile"
    refused = seeded.http.get("/api/1/users/me", headers=seeded.bearer(body["access_token"]))
    assert refused.status_code == 401  # it opens no API of ours
    again = refresh(seeded, body["refresh_token"])
    assert again.status_code == 200, again.text
    assert again.json()["scope"] == "email profile"
    assert claims_of(again.json()["access_token"])["aud"] == USERINFO


def test_identity_scopes_ride_along_with_resource_scopes_and_survive_refreshes(seeded: AuthClient) -> None:
    verifier, challenge = pkce()
    code = identity_code(seeded, challenge, scopes=["customers:read", "email"], resources=["customers"])
    body = exchanged(seeded, code, verifier)
    assert body["scope"] == "customers:read email"
    assert claims_of(body["access_token"])["aud"] == "customers"
    again = refresh(seeded, body["refresh_token"])
    assert again.status_code == 200, again.text
    assert again.json()["scope"] == "customers:read email"
    narrowed = refresh(seeded, again.json()["refresh_token"], scope="email")  # narrowing keeps it
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["scope"] == "email"
    assert_oauth_error(
        refresh(seeded, narrowed.json()["refresh_token"], scope="profile"), 400, "invalid_scope"
    )


def test_openid_brings_an_id_token_for_the_client(seeded: AuthClient) -> None:
    verifier, challenge = pkce()
    session, _ = seeded.call(
        seeded.services.browser.browser_sessions.start,
        user_id(seeded, AGENT_EMAIL),
        amr=["pwd"],
        acr="1",
        source_ip=None,
        user_agent=None,
        replacing=None,
    )
    code = identity_code(
        seeded, challenge, scopes=["email", "openid"], resources=[USERINFO], nonce="n-0S6_WzA2Mj",
        browser_session_id=session.id,
    )  # fmt: skip
    body = exchanged(seeded, code, verifier)
    assert body["scope"] == "email openid"
    header = jwt.get_unverified_header(body["id_token"])
    assert header["typ"] == "JWT"
    jwks = {k["kid"]: k for k in seeded.http.get("/.well-known/jwks.json").json()["keys"]}
    claims = jwt.decode(
        body["id_token"],
        jwt.PyJWK(jwks[header["kid"]]).key,
        algorithms=[header["alg"]],
        audience=CLI,
        issuer="http://auth.test",
    )
    assert claims["sub"] == str(user_id(seeded, AGENT_EMAIL))
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["azp"] == CLI
    assert claims["sid"] == str(session.id)  # the browser session; the access token's is the family
    assert claims_of(body["access_token"])["sid"] != claims["sid"]
    assert (claims["auth_time"], claims["amr"], claims["acr"]) == (1_700_000_000, ["pwd"], "1")
    assert claims["email"] == AGENT_EMAIL
    hashed = (hashlib.sha512 if header["alg"] == "EdDSA" else hashlib.sha256)(body["access_token"].encode())
    half = hashed.digest()[: hashed.digest_size // 2]
    assert claims["at_hash"] == base64.urlsafe_b64encode(half).rstrip(b"=").decode()
